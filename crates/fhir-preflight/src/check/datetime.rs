//! Lexical rules of FHIR R4's date and time types, with real calendar dates (no 2013-04-31, no
//! 1900-02-29) and R4's time-zone rules: a dateTime with a time needs seconds and a zone; an
//! instant is always complete with a zone; a time has no zone.

/// What is wrong with a date/time value (for the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateError {
    /// Not the type's pattern.
    Format,
    /// The pattern is right but the date does not exist.
    Calendar,
    /// A dateTime with a time but no zone.
    MissingZone,
}

fn digits(s: &[u8], n: usize) -> Option<u32> {
    if s.len() < n || !s[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s[..n].iter().fold(0, |v, &b| v * 10 + u32::from(b - b'0')))
}

fn leap(year: u32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in(year: u32, month: u32) -> u32 {
    match month {
        2 if leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; returns the rest of the input after it.
fn date_part(s: &[u8]) -> Result<(&[u8], bool), DateError> {
    let year = digits(s, 4).ok_or(DateError::Format)?;
    if year == 0 {
        return Err(DateError::Format);
    }
    let mut rest = &s[4..];
    if rest.first() != Some(&b'-') {
        return Ok((rest, false));
    }
    let month = digits(&rest[1..], 2).ok_or(DateError::Format)?;
    if !(1..=12).contains(&month) {
        return Err(DateError::Format);
    }
    rest = &rest[3..];
    if rest.first() != Some(&b'-') {
        return Ok((rest, false));
    }
    let day = digits(&rest[1..], 2).ok_or(DateError::Format)?;
    if !(1..=31).contains(&day) {
        return Err(DateError::Format);
    }
    if day > days_in(year, month) {
        return Err(DateError::Calendar);
    }
    Ok((&rest[3..], true))
}

/// `hh:mm:ss(.s+)?`; returns the rest.
fn time_part(s: &[u8]) -> Result<&[u8], DateError> {
    let h = digits(s, 2).ok_or(DateError::Format)?;
    let m = (s.get(2) == Some(&b':')).then(|| digits(&s[3..], 2)).flatten().ok_or(DateError::Format)?;
    let sec = (s.get(5) == Some(&b':')).then(|| digits(&s[6..], 2)).flatten().ok_or(DateError::Format)?;
    if h > 23 || m > 59 || sec > 60 {
        return Err(DateError::Format);
    }
    let mut rest = &s[8..];
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return Err(DateError::Format);
        }
        rest = &rest[1 + n..];
    }
    Ok(rest)
}

/// `Z` or `±hh:mm` (up to +14:00), and nothing after.
fn zone(s: &[u8]) -> Result<(), DateError> {
    match s {
        [b'Z'] => Ok(()),
        [b'+' | b'-', ..] if s.len() == 6 && s[3] == b':' => {
            let h = digits(&s[1..], 2).ok_or(DateError::Format)?;
            let m = digits(&s[4..], 2).ok_or(DateError::Format)?;
            if (h <= 13 && m <= 59) || (h == 14 && m == 0) {
                Ok(())
            } else {
                Err(DateError::Format)
            }
        }
        _ => Err(DateError::Format),
    }
}

pub(crate) fn date(s: &str) -> Result<(), DateError> {
    match date_part(s.as_bytes())? {
        ([], _) => Ok(()),
        _ => Err(DateError::Format),
    }
}

pub(crate) fn date_time(s: &str) -> Result<(), DateError> {
    let (rest, full_date) = date_part(s.as_bytes())?;
    match rest {
        [] => Ok(()),
        [b'T', time @ ..] if full_date => {
            let after = time_part(time)?;
            if after.is_empty() {
                return Err(DateError::MissingZone);
            }
            zone(after)
        }
        _ => Err(DateError::Format),
    }
}

pub(crate) fn instant(s: &str) -> Result<(), DateError> {
    let (rest, full_date) = date_part(s.as_bytes())?;
    match rest {
        [b'T', time @ ..] if full_date => zone(time_part(time)?),
        _ => Err(DateError::Format),
    }
}

pub(crate) fn time(s: &str) -> Result<(), DateError> {
    match time_part(s.as_bytes())? {
        [] => Ok(()),
        _ => Err(DateError::Format),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for ok in ["2024", "2024-02", "2024-02-29", "2000-02-29", "0001", "1900-02-28"] {
            assert_eq!(date(ok), Ok(()), "{ok}");
        }
        for (bad, e) in [
            ("2013-04-31", DateError::Calendar),
            ("1900-02-29", DateError::Calendar),
            ("2024-13", DateError::Format),
            ("2024-1-01", DateError::Format),
            ("24", DateError::Format),
            ("0000", DateError::Format),
            ("2024-01-01T10:00:00Z", DateError::Format),
            ("2024-01-00", DateError::Format),
            ("", DateError::Format),
        ] {
            assert_eq!(date(bad), Err(e), "{bad}");
        }
    }

    #[test]
    fn date_times() {
        for ok in [
            "2024",
            "2024-02",
            "2024-02-29",
            "2024-01-01T10:00:00Z",
            "2024-01-01T23:59:60.123+14:00",
            "2024-01-01T00:00:00-05:30",
        ] {
            assert_eq!(date_time(ok), Ok(()), "{ok}");
        }
        for (bad, e) in [
            ("2024-01-01T10:00:00", DateError::MissingZone),
            ("2024-01-01T10:00Z", DateError::Format),
            ("2024-01T10:00:00Z", DateError::Format),
            ("2024-01-01T24:00:00Z", DateError::Format),
            ("2024-01-01T10:00:00+15:00", DateError::Format),
            ("2024-01-01T10:00:00.Z", DateError::Format),
            ("2024-01-01 10:00:00Z", DateError::Format),
            ("2023-02-29T10:00:00Z", DateError::Calendar),
        ] {
            assert_eq!(date_time(bad), Err(e), "{bad}");
        }
    }

    #[test]
    fn instants_and_times() {
        assert_eq!(instant("2015-02-07T13:28:17.239+02:00"), Ok(()));
        assert_eq!(instant("2015-02-07T13:28:17Z"), Ok(()));
        assert_eq!(instant("2015-02-07T13:28:17"), Err(DateError::Format));
        assert_eq!(instant("2015-02-07"), Err(DateError::Format));
        assert_eq!(time("13:28:17"), Ok(()));
        assert_eq!(time("13:28:17.5"), Ok(()));
        assert_eq!(time("13:28"), Err(DateError::Format));
        assert_eq!(time("13:28:17Z"), Err(DateError::Format));
        assert_eq!(time("25:00:00"), Err(DateError::Format));
    }
}
