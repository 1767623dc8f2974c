# What failed, in a few lines each, for the end of scripts/test.sh: a CI log is often
# read only by its head and its tail, and a failure's message would otherwise sit in the
# middle of thousands of lines. Sourced; defines print_failures.

# print_failures CARGO_TEST_LOG PLAYWRIGHT_RESULTS_JSON
print_failures() {
  local cargo_log="$1" results="$2"
  if grep -q '^test .* FAILED$' "$cargo_log" 2>/dev/null; then
    echo "=== failed Rust tests"
    grep '^test .* FAILED$' "$cargo_log" | sed 's/^test /  /; s/ \.\.\. FAILED$//'
    # Each failed test's captured output, cut to its first lines (the panic and its
    # message come first when the test printed nothing else).
    awk '
      /^---- .* stdout ----$/ { shown = 0; printing = 1; print; next }
      /^(failures:|test result:)/ { printing = 0 }
      printing && shown < 25 { print "  " $0; shown++ }
    ' "$cargo_log"
  fi
  if [ -f "$results" ]; then
    node - "$results" <<'EOF'
const fs = require("fs");
const plain = (s) => String(s ?? "").replace(/\x1b\[[0-9;]*m/g, "");
const report = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const failed = [];
const walk = (suite, path) => {
  const here = suite.title ? [...path, suite.title] : path;
  for (const spec of suite.specs ?? []) {
    for (const test of spec.tests ?? []) {
      if (test.status !== "unexpected") continue;
      const last = test.results[test.results.length - 1] ?? {};
      const errors = (last.errors ?? []).map((e) => plain(e.message).split("\n").slice(0, 12).join("\n"));
      failed.push({ title: [...here, spec.title].join(" › "), where: `${spec.file}:${spec.line}`, errors });
    }
  }
  for (const child of suite.suites ?? []) walk(child, here);
};
for (const suite of report.suites ?? []) walk(suite, []);
if (failed.length) {
  console.log("=== failed Playwright tests");
  for (const f of failed) {
    console.log(`  ${f.title} (${f.where})`);
    for (const e of f.errors) console.log(e.replace(/^/gm, "    "));
  }
}
EOF
  fi
}
