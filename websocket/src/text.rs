//! [`FrameText`]: the text of one WebSocket text message or Server-Sent Event, as shared
//! bytes known to be UTF-8. A server frame is encoded into one once and the same bytes
//! go to every subscriber's queue; the socket reader yields client messages as one.

use bytes::Bytes;

/// UTF-8 text in shared bytes: cheap to clone, written to a socket without a copy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FrameText(Bytes);

/// The bytes were not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotUtf8;

impl FrameText {
    /// Takes `bytes` if they are UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<FrameText, NotUtf8> {
        match std::str::from_utf8(&bytes) {
            Ok(_) => Ok(FrameText(bytes)),
            Err(_) => Err(NotUtf8),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Checked when made; checking again costs a pass over the text and only happens
        // where a `str` is needed (event streams, tests), never on the socket path.
        std::str::from_utf8(&self.0).expect("FrameText holds UTF-8")
    }

    /// The bytes, as written to a socket.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no text.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for FrameText {
    fn from(text: String) -> FrameText {
        FrameText(Bytes::from(text))
    }
}

impl From<&str> for FrameText {
    fn from(text: &str) -> FrameText {
        FrameText(Bytes::copy_from_slice(text.as_bytes()))
    }
}

impl From<FrameText> for Bytes {
    fn from(text: FrameText) -> Bytes {
        text.0
    }
}

impl std::ops::Deref for FrameText {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_utf8_is_taken() {
        assert_eq!(
            FrameText::from_utf8(Bytes::from_static("é".as_bytes()))
                .unwrap()
                .as_str(),
            "é"
        );
        assert_eq!(
            FrameText::from_utf8(Bytes::from_static(&[0xff, 0xfe])),
            Err(NotUtf8)
        );
    }

    #[test]
    fn the_bytes_are_shared_not_copied() {
        let text = FrameText::from(String::from("{\"type\":\"pong\"}"));
        let copy = text.clone();
        assert_eq!(text.as_bytes().as_ptr(), copy.as_bytes().as_ptr());
        assert_eq!(Bytes::from(copy).as_ptr(), text.as_bytes().as_ptr());
    }
}
