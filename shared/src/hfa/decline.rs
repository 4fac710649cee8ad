//! Decline causes (Register Decline IE 0x08; Ours).
//!
//! Real systems' cause values are not public. Each distinct reason a
//! registration can fail has its own code, so the phone can tell the user
//! what to do about it in words ([`DeclineCause::describe`]). The codes are
//! grouped: 0x01-0x0f identity and credentials, 0x10-0x1f system
//! configuration of this client, 0x20-0x2f protocol and state, 0x30-0x3f
//! system condition.

use super::code::wire_code;

wire_code! {
    /// Why the system refused a registration.
    pub struct DeclineCause(u8) {
        /// No System Client is configured with this subscriber number.
        UNKNOWN_SUBSCRIBER = 0x01 => "unknown subscriber",
        /// The hash does not match the password configured for the subscriber.
        WRONG_PASSWORD = 0x02 => "wrong password",
        /// The Register carried no usable password proof (e.g. an unknown hash
        /// algorithm id).
        AUTHENTICATION_REQUIRED = 0x03 => "authentication required",
        /// Too many failed attempts; registration is locked for a while.
        TEMPORARILY_LOCKED = 0x04 => "temporarily locked",
        /// "Internet Registration with internal SBC" is off for this client.
        INTERNET_REGISTRATION_DISABLED = 0x10 => "internet registration disabled",
        /// The software version is below the minimum for Device@Home.
        FIRMWARE_TOO_OLD = 0x11 => "firmware too old",
        /// No IP user license is assigned to this client.
        NO_LICENSE = 0x12 => "no IP user license",
        /// The subscriber is configured as another kind of client (e.g. a
        /// myPortal to go client) and cannot register as an HFA phone.
        WRONG_CLIENT_KIND = 0x13 => "wrong client kind",
        /// The challenge timestamp is unknown, expired, from another
        /// connection, or already used (replay).
        CHALLENGE_INVALID = 0x20 => "challenge expired or reused",
        /// A newer registration of the same subscriber replaced this one.
        REPLACED = 0x21 => "replaced by a new registration",
        /// The Register message was malformed or out of order.
        PROTOCOL_ERROR = 0x22 => "protocol error",
        /// The system is overloaded or shutting down.
        SYSTEM_BUSY = 0x30 => "system busy",
    }
}

impl DeclineCause {
    /// Words for the user, saying what to do where there is something to do.
    pub fn describe(&self) -> &'static str {
        match *self {
            Self::UNKNOWN_SUBSCRIBER => "Unknown subscriber: check the subscriber number",
            Self::WRONG_PASSWORD => "Wrong password: check the HFA password",
            Self::AUTHENTICATION_REQUIRED => "Authentication required: configure the HFA password",
            Self::TEMPORARILY_LOCKED => {
                "Temporarily locked after failed attempts: wait, then try again"
            }
            Self::INTERNET_REGISTRATION_DISABLED => {
                "Internet registration not enabled for this client: the administrator must set \
                 \"Internet Registration with internal SBC\""
            }
            Self::FIRMWARE_TOO_OLD => {
                "Firmware below the minimum: connect the phone internally once for a firmware update"
            }
            Self::NO_LICENSE => "No IP user license assigned to this client",
            Self::WRONG_CLIENT_KIND => {
                "Wrong client kind: this subscriber is not configured as an HFA phone"
            }
            Self::CHALLENGE_INVALID => "Challenge expired or reused: registration restarts",
            Self::REPLACED => "Replaced by a new registration of the same subscriber",
            Self::PROTOCOL_ERROR => "Protocol error",
            Self::SYSTEM_BUSY => "System busy or shutting down: try again later",
            _ => "Registration declined for an unknown reason",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_cause_has_its_own_words() {
        let causes = [
            DeclineCause::UNKNOWN_SUBSCRIBER,
            DeclineCause::WRONG_PASSWORD,
            DeclineCause::AUTHENTICATION_REQUIRED,
            DeclineCause::TEMPORARILY_LOCKED,
            DeclineCause::INTERNET_REGISTRATION_DISABLED,
            DeclineCause::FIRMWARE_TOO_OLD,
            DeclineCause::NO_LICENSE,
            DeclineCause::WRONG_CLIENT_KIND,
            DeclineCause::CHALLENGE_INVALID,
            DeclineCause::REPLACED,
            DeclineCause::PROTOCOL_ERROR,
            DeclineCause::SYSTEM_BUSY,
        ];
        let unknown = DeclineCause(0x99).describe();
        let mut seen = std::collections::HashSet::new();
        for cause in causes {
            assert!(cause.name().is_some());
            assert_ne!(cause.describe(), unknown, "{cause:?}");
            assert!(seen.insert(cause.describe()), "{cause:?}");
        }
        assert_eq!(format!("{:?}", DeclineCause(0x99)), "DeclineCause(0x99)");
    }
}
