//! Holidays from an iCalendar (.ics) file: the all-day events public holiday calendars publish.
//!
//! Reads `VEVENT`s with `DTSTART` (a date, or a date-time whose date is taken), an optional
//! `DTEND` (exclusive; multi-day events become one holiday per day), `SUMMARY`, and
//! `RRULE:FREQ=YEARLY` (the date recurs every year). Other properties are ignored.

use jiff::civil::Date;

use crate::calendar::{Holiday, HolidayDate};
use crate::Invalid;

/// The longest event read, in days; longer ones are refused as not being holidays.
const MAX_EVENT_DAYS: i32 = 31;

/// Parses the holidays of an iCalendar text.
pub fn holidays_from_ics(text: &str) -> Result<Vec<Holiday>, Invalid> {
    let lines = unfold(text);
    let mut holidays = Vec::new();
    let mut event: Option<Event> = None;
    let mut events = 0;
    for line in &lines {
        let (name, value) = match line.split_once(':') {
            Some((n, v)) => (n, v),
            None => continue,
        };
        let (prop, _params) = name.split_once(';').unwrap_or((name, ""));
        match (prop.to_ascii_uppercase().as_str(), value.trim()) {
            ("BEGIN", v) if v.eq_ignore_ascii_case("VEVENT") => event = Some(Event::default()),
            ("END", v) if v.eq_ignore_ascii_case("VEVENT") => {
                if let Some(e) = event.take() {
                    events += 1;
                    holidays.extend(e.into_holidays(events)?);
                }
            }
            ("DTSTART", v) => {
                if let Some(e) = event.as_mut() {
                    e.start = Some(v.to_owned());
                }
            }
            ("DTEND", v) => {
                if let Some(e) = event.as_mut() {
                    e.end = Some(v.to_owned());
                }
            }
            ("SUMMARY", v) => {
                if let Some(e) = event.as_mut() {
                    e.summary = unescape(v);
                }
            }
            ("RRULE", v) => {
                if let Some(e) = event.as_mut() {
                    e.yearly = v
                        .to_ascii_uppercase()
                        .split(';')
                        .any(|p| p == "FREQ=YEARLY");
                }
            }
            _ => {}
        }
    }
    if events == 0 {
        return Err(Invalid::new("ics", "the file holds no events (VEVENT)"));
    }
    Ok(holidays)
}

#[derive(Default)]
struct Event {
    start: Option<String>,
    end: Option<String>,
    summary: String,
    yearly: bool,
}

impl Event {
    fn into_holidays(self, number: usize) -> Result<Vec<Holiday>, Invalid> {
        let name = if self.summary.is_empty() {
            "Holiday".to_owned()
        } else {
            self.summary
        };
        let start = self.start.as_deref().and_then(date_of).ok_or_else(|| {
            Invalid::new(
                "ics",
                format!("event {number} ('{name}') has no readable DTSTART date"),
            )
        })?;
        let end = match self.end.as_deref() {
            Some(raw) => date_of(raw).ok_or_else(|| {
                Invalid::new(
                    "ics",
                    format!("event {number} ('{name}') has an unreadable DTEND"),
                )
            })?,
            None => start
                .tomorrow()
                .map_err(|_| Invalid::new("ics", "date out of range"))?,
        };
        let days = start
            .until(end)
            .map(|span| span.get_days())
            .unwrap_or(1)
            .max(1);
        if days > MAX_EVENT_DAYS {
            return Err(Invalid::new(
                "ics",
                format!("event {number} ('{name}') lasts {days} days; holidays last at most {MAX_EVENT_DAYS}"),
            ));
        }
        let mut out = Vec::new();
        let mut date = start;
        for _ in 0..days {
            out.push(Holiday {
                date: if self.yearly {
                    HolidayDate::Yearly {
                        month: date.month(),
                        day: date.day(),
                    }
                } else {
                    HolidayDate::Once(date)
                },
                name: name.clone(),
            });
            date = date
                .tomorrow()
                .map_err(|_| Invalid::new("ics", "date out of range"))?;
        }
        Ok(out)
    }
}

/// The date of `20261225` or `20261225T000000Z`.
fn date_of(raw: &str) -> Option<Date> {
    let digits = raw.get(..8)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i16 = digits[..4].parse().ok()?;
    let month: i8 = digits[4..6].parse().ok()?;
    let day: i8 = digits[6..8].parse().ok()?;
    Date::new(year, month, day).ok()
}

/// Joins folded lines (RFC 5545 §3.1: a line starting with a space or tab continues the last).
fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match (
            raw.strip_prefix(' ').or_else(|| raw.strip_prefix('\t')),
            lines.last_mut(),
        ) {
            (Some(rest), Some(last)) => last.push_str(rest),
            _ => lines.push(raw.to_owned()),
        }
    }
    lines
}

fn unescape(value: &str) -> String {
    value
        .replace("\\n", " ")
        .replace("\\N", " ")
        .replace("\\,", ",")
        .replace("\\;", ";")
        .replace("\\\\", "\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GERMAN: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//opsdesk//test//EN\r\n\
BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20261225\r\nDTEND;VALUE=DATE:20261227\r\n\
SUMMARY:Weihnachten\\, beide Tage\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:2\r\nDTSTART;VALUE=DATE:20260101\r\nRRULE:FREQ=YEARLY\r\nSUMMARY:New\r\n  Year\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:3\r\nDTSTART:20261003T000000Z\r\nSUMMARY:Tag der Deutschen Einheit\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

    #[test]
    fn all_day_multi_day_yearly_and_folded_events() {
        let got = holidays_from_ics(GERMAN).unwrap();
        let text: Vec<String> = got
            .iter()
            .map(|h| format!("{} {}", h.date, h.name))
            .collect();
        assert_eq!(
            text,
            vec![
                "2026-12-25 Weihnachten, beide Tage",
                "2026-12-26 Weihnachten, beide Tage",
                "01-01 New Year",
                "2026-10-03 Tag der Deutschen Einheit",
            ]
        );
    }

    #[test]
    fn unreadable_files_are_refused_with_the_reason() {
        assert_eq!(
            holidays_from_ics("hello").unwrap_err().reason,
            "the file holds no events (VEVENT)"
        );
        let bad = "BEGIN:VEVENT\nSUMMARY:Oops\nDTSTART:2026-12\nEND:VEVENT\n";
        assert!(holidays_from_ics(bad)
            .unwrap_err()
            .reason
            .contains("'Oops'"));
        let long = "BEGIN:VEVENT\nDTSTART:20260101\nDTEND:20260401\nEND:VEVENT\n";
        assert!(holidays_from_ics(long)
            .unwrap_err()
            .reason
            .contains("lasts 90 days"));
    }
}
