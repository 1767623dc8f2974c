//! Calendar days as the message list names them: the day a message falls on in the
//! reader's time zone, the separator between days ("Today", "Yesterday", "Friday 4
//! December", "4 December 2025" for another year) and a timestamp's full date and time
//! for its hover ("Sunday 6 December 2026, 11:21"). Pure: the caller gives the clock and
//! the offset from UTC; the calendar is the proleptic Gregorian one (days from civil
//! dates as in Howard Hinnant's public-domain algorithms).

const MINUTES_PER_DAY: i64 = 24 * 60;
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// The local day (days since 1970-01-01) of `unix_ms`, `utc_offset_min` from UTC.
pub fn local_day(unix_ms: i64, utc_offset_min: i64) -> i64 {
    (unix_ms.div_euclid(60_000) + utc_offset_min).div_euclid(MINUTES_PER_DAY)
}

/// (year, month 1–12, day 1–31) of a day since 1970-01-01.
fn civil(days: i64) -> (i64, usize, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as usize;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn weekday(days: i64) -> &'static str {
    // 1970-01-01 was a Thursday.
    WEEKDAYS[(days + 4).rem_euclid(7) as usize]
}

/// The separator before the first message of `day`, seen on `today`.
pub fn day_label(day: i64, today: i64) -> String {
    let (year, month, date) = civil(day);
    match today - day {
        0 => "Today".to_string(),
        1 => "Yesterday".to_string(),
        _ if civil(today).0 == year => {
            format!("{} {date} {}", weekday(day), MONTHS[month - 1])
        }
        _ => format!("{date} {} {year}", MONTHS[month - 1]),
    }
}

/// "Sunday 6 December 2026, 11:21": a timestamp in full, for its hover.
pub fn full_time(unix_ms: i64, utc_offset_min: i64) -> String {
    let day = local_day(unix_ms, utc_offset_min);
    let (year, month, date) = civil(day);
    let minutes = (unix_ms.div_euclid(60_000) + utc_offset_min).rem_euclid(MINUTES_PER_DAY);
    format!(
        "{} {date} {} {year}, {:02}:{:02}",
        weekday(day),
        MONTHS[month - 1],
        minutes / 60,
        minutes % 60
    )
}

/// For each of `times` (oldest first, Unix ms): the local day it starts, when it is the
/// first of its day in the list.
pub fn day_starts(times: &[i64], utc_offset_min: i64) -> Vec<Option<i64>> {
    let mut previous = None;
    times
        .iter()
        .map(|&t| {
            let day = local_day(t, utc_offset_min);
            let starts = (previous != Some(day)).then_some(day);
            previous = Some(day);
            starts
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-06 11:21 UTC, a Sunday.
    const NOW: i64 = 1_796_556_060_000;

    #[test]
    fn civil_dates_match_known_days() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(-1), (1969, 12, 31));
        assert_eq!(
            civil(11_016),
            (2000, 2, 29),
            "a leap day of a century leap year"
        );
        assert_eq!(civil(local_day(NOW, 0)), (2026, 12, 6));
        assert_eq!(weekday(0), "Thursday");
        assert_eq!(weekday(local_day(NOW, 0)), "Sunday");
    }

    #[test]
    fn the_offset_moves_a_time_across_midnight() {
        let late = NOW + 12 * 3_600_000 + 40 * 60_000; // 00:01 UTC on Monday
        assert_eq!(local_day(late, 0), local_day(NOW, 0) + 1);
        assert_eq!(
            local_day(late, -60),
            local_day(NOW, 0),
            "23:01 in UTC−1 is still Sunday"
        );
        assert_eq!(full_time(late, -60), "Sunday 6 December 2026, 23:01");
    }

    #[test]
    fn separators_say_today_yesterday_a_weekday_or_a_date_of_another_year() {
        let today = local_day(NOW, 0);
        assert_eq!(day_label(today, today), "Today");
        assert_eq!(day_label(today - 1, today), "Yesterday");
        assert_eq!(day_label(today - 2, today), "Friday 4 December");
        assert_eq!(day_label(today - 365, today), "6 December 2025");
    }

    #[test]
    fn a_day_starts_at_its_first_message_only() {
        let hour = 3_600_000;
        let times = [NOW - 30 * hour, NOW - 29 * hour, NOW - hour, NOW];
        let starts = day_starts(&times, 0);
        let today = local_day(NOW, 0);
        assert_eq!(starts, vec![Some(today - 1), None, Some(today), None]);
        assert!(day_starts(&[], 0).is_empty());
    }

    #[test]
    fn a_full_time_names_the_weekday_date_and_clock() {
        assert_eq!(full_time(NOW, 0), "Sunday 6 December 2026, 11:21");
        assert_eq!(full_time(NOW, 60), "Sunday 6 December 2026, 12:21");
    }
}
