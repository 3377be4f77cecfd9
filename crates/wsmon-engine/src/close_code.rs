//! Standard names of WebSocket close codes (RFC 6455 section 7.4 and the IANA registry).

/// The standard name of a close code, or the range it belongs to.
pub fn close_code_name(code: u16) -> &'static str {
    match code {
        1000 => "normal closure",
        1001 => "going away",
        1002 => "protocol error",
        1003 => "unsupported data",
        1005 => "no status received",
        1006 => "abnormal closure",
        1007 => "invalid payload data",
        1008 => "policy violation",
        1009 => "message too big",
        1010 => "mandatory extension",
        1011 => "internal error",
        1012 => "service restart",
        1013 => "try again later",
        1014 => "bad gateway",
        1015 => "TLS handshake failure",
        3000 => "unauthorized",
        3003 => "forbidden",
        3008 => "timeout",
        1016..=2999 => "reserved",
        3001..=3999 => "registered",
        4000..=4999 => "application",
        _ => "invalid",
    }
}

/// Whether a client may send this code in a close frame.
pub fn is_sendable_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_registry() {
        assert_eq!(close_code_name(1001), "going away");
        assert_eq!(close_code_name(1006), "abnormal closure");
        assert_eq!(close_code_name(1011), "internal error");
        assert_eq!(close_code_name(1012), "service restart");
        assert_eq!(close_code_name(4000), "application");
        assert_eq!(close_code_name(999), "invalid");
    }

    #[test]
    fn reserved_codes_cannot_be_sent() {
        assert!(is_sendable_close_code(1000));
        assert!(is_sendable_close_code(4001));
        assert!(!is_sendable_close_code(1005));
        assert!(!is_sendable_close_code(1006));
        assert!(!is_sendable_close_code(1015));
        assert!(!is_sendable_close_code(2000));
    }
}
