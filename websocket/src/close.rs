//! Close frames (RFC 6455 §5.5.1, §7.4): the codes the transport itself ends a connection
//! with, which codes may appear on the wire at all, reading a client's close payload and
//! writing the server's.
//!
//! The rule for a client's code (§7.4.1, §7.4.2 and the IANA registry): 1000–1003,
//! 1007–1014 and 3000–4999 may be sent. Everything else may not: 0–999 are unused, 1004
//! is reserved, 1005, 1006 and 1015 are for reporting only and never sent, 1016–2999 are
//! unassigned or reserved for this protocol's extensions, and 5000 and up are not codes.
//! A close frame carrying one of those is a protocol error (1002), as is a payload of one
//! byte; a reason that is not UTF-8 is 1007.

use crate::frame::FrameError;

/// Close code for a protocol violation.
pub const CLOSE_PROTOCOL_ERROR: u16 = 1002;
/// Close code for text that is not UTF-8.
pub const CLOSE_INVALID_PAYLOAD: u16 = 1007;
/// Close code for a message over the size limit.
pub const CLOSE_TOO_BIG: u16 = 1009;

/// Whether `code` may be sent in a close frame (see the module doc for the rule).
pub fn may_be_sent(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Reads a client's close payload: empty (no code), or a code that may be sent and a
/// UTF-8 reason. Returns the code.
pub fn parse_close(payload: &[u8]) -> Result<Option<u16>, FrameError> {
    match payload {
        [] => Ok(None),
        [_] => Err(FrameError::Protocol("close payload of one byte")),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !may_be_sent(code) {
                return Err(FrameError::Protocol("close code that may not be sent"));
            }
            if std::str::from_utf8(reason).is_err() {
                return Err(FrameError::InvalidUtf8);
            }
            Ok(Some(code))
        }
    }
}

/// The payload of a server close frame: the code, then as much of `reason` as fits in
/// 123 bytes without splitting a character.
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut payload = Vec::with_capacity(2 + end);
    payload.extend_from_slice(&code.to_be_bytes());
    payload.extend_from_slice(&reason.as_bytes()[..end]);
    payload
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_registered_and_application_codes_may_be_sent() {
        let allowed = [
            1000, 1001, 1002, 1003, 1007, 1010, 1011, 1014, 3000, 4101, 4999,
        ];
        let refused = [
            0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ];
        for code in allowed {
            assert!(may_be_sent(code), "{code}");
            let payload = close_payload(code, "why");
            assert_eq!(parse_close(&payload), Ok(Some(code)));
        }
        for code in refused {
            assert!(!may_be_sent(code), "{code}");
            assert_eq!(
                parse_close(&code.to_be_bytes()),
                Err(FrameError::Protocol("close code that may not be sent")),
                "{code}"
            );
        }
    }

    #[test]
    fn a_close_payload_is_empty_or_a_code_and_utf8() {
        assert_eq!(parse_close(&[]), Ok(None));
        assert_eq!(
            parse_close(&[0x03]),
            Err(FrameError::Protocol("close payload of one byte"))
        );
        assert_eq!(
            parse_close(&[0x03, 0xE8, 0xCE, 0xBA, 0xE1]),
            Err(FrameError::InvalidUtf8)
        );
        assert_eq!(parse_close(&[0x03, 0xE8, 0xCE, 0xBA]), Ok(Some(1000)));
    }

    #[test]
    fn close_reasons_are_cut_at_a_character_boundary() {
        let payload = close_payload(4101, "slow");
        assert_eq!(payload, [0x10, 0x05, b's', b'l', b'o', b'w']);
        let long = "é".repeat(100); // 200 bytes
        let payload = close_payload(1000, &long);
        assert!(payload.len() <= 125);
        assert!(std::str::from_utf8(&payload[2..]).is_ok());
        assert_eq!(payload.len(), 2 + 122);
    }
}
