//! Decoding and validating one client frame, as the gateway does with every text message.
//!
//! Whatever the text, decoding must not panic, and:
//! - a frame that decodes is valid through and through: encoded again, it decodes to the
//!   same frame (validation in the field types cannot be bypassed by another spelling);
//! - a frame that does not decode gets one of the three decoding error codes, a message
//!   short enough never to echo the input, and a `req` only when the text is an object
//!   carrying that very number.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::{ErrorCode, decode_client_frame};

fuzz_target!(|data: &[u8]| {
    // The gateway closes a text message that is not UTF-8 (1007) before decoding it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match decode_client_frame(text) {
        Ok(frame) => {
            let again = serde_json::to_string(&frame).expect("a frame encodes");
            assert_eq!(
                decode_client_frame(&again),
                Ok(frame),
                "round trip of {again}"
            );
        }
        Err(err) => {
            assert!(
                matches!(
                    err.code,
                    ErrorCode::BadFrame | ErrorCode::UnknownType | ErrorCode::InvalidField
                ),
                "{err:?}"
            );
            assert!(
                err.message.len() <= 300,
                "message echoes input: {}",
                err.message
            );
            if let Some(req) = err.req {
                let value: serde_json::Value = serde_json::from_str(text).expect("req from JSON");
                assert_eq!(value.get("req").and_then(|r| r.as_u64()), Some(req));
            }
        }
    }
});
