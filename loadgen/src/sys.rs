//! Process facts from `/proc` (Linux): this process's CPU time, another process's
//! resident memory; and raising the open-file limit so that tens of thousands of
//! connections fit.

/// Clock ticks per second of `/proc/*/stat` times (100 on every Linux this runs on).
const TICKS_PER_SEC: f64 = 100.0;

/// CPU seconds (user + system) this process has used so far, if readable.
pub fn cpu_seconds() -> Option<f64> {
    cpu_seconds_at("/proc/self/stat")
}

/// CPU seconds (user + system) process `pid` has used so far, if readable.
pub fn cpu_seconds_of(pid: u32) -> Option<f64> {
    cpu_seconds_at(&format!("/proc/{pid}/stat"))
}

fn cpu_seconds_at(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SEC)
}

/// Resident memory of process `pid` in KiB, if readable.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Raises the soft open-file limit as far as the hard limit allows; returns the new one.
pub fn raise_fd_limit(want: u64) -> u64 {
    rlimit::increase_nofile_limit(want).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        assert!(cpu_seconds().is_some());
        assert!(rss_kib(std::process::id()).is_some_and(|kib| kib > 0));
    }
}
