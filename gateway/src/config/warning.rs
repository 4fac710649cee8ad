//! What is allowed but probably wrong: reported by `check-config` and at
//! start, without refusing the configuration.

use super::system::RtpRange;

/// One warning about an accepted configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigWarning {
    /// A signalling port differs from the system default.
    #[error(
        "{field} = {value}: differs from the default {default}; the signalling ports should not \
         be changed in the system (guide 2.5); on the devices, configure the external port of \
         the router's port forwarding instead (guide 3.1)"
    )]
    PortChanged {
        /// The field path.
        field: &'static str,
        /// The configured port.
        value: u16,
        /// The default.
        default: u16,
    },
    /// The RTP range differs from the model's default.
    #[error(
        "network.rtp_ports = {range}: differs from the model's default {default}; the voice \
         ports should not be changed (guide 2.5), and the company router must forward exactly \
         this range 1:1 (guide 3.1)"
    )]
    RtpRangeChanged {
        /// The configured range.
        range: RtpRange,
        /// The model's default.
        default: RtpRange,
    },
    /// A public address devices at home cannot reach over the internet.
    #[error(
        "network.public_address = \"{value}\": {reason}; devices at home need the company's \
         public IPv4 address or a DNS name that resolves to it (guide 4.1)"
    )]
    PublicAddressNotPublic {
        /// The address written.
        value: String,
        /// Why it is not a public IPv4 address, in words.
        reason: &'static str,
    },
    /// More simultaneous internet calls than RTP proxy channels.
    #[error(
        "{calls} simultaneous internet calls exceed the {channels} RTP proxy channels of the \
         model, which all internet calls share: at most {channels} can run (guide 1.3.5)"
    )]
    CallsExceedChannels {
        /// Configured simultaneous internet calls.
        calls: u32,
        /// RTP proxy channels of the model.
        channels: u32,
    },
    /// No internet call possible, and no client needs one yet.
    #[error(
        "0 simultaneous internet calls: no Device@Home call can be made; set \
         internet.upstream_kbps or internet.simultaneous_calls before enabling a client for \
         internet registration (guide 2.3)"
    )]
    NoInternetCalls,
    /// An internet-enabled client may dial premium-rate numbers.
    #[error(
        "{client}.allow_premium = true: the client registers over the internet and may dial \
         premium-rate numbers; reduce its class of service to prevent toll fraud (guide 2.2)"
    )]
    PremiumForInternetClient {
        /// The client.
        client: String,
    },
    /// An internet-enabled client may dial the IRSF ranges.
    #[error(
        "{client}.allow_irsf = true: the client registers over the internet and may dial \
         satellite and international premium numbers, where international revenue share fraud \
         ends; reduce its class of service to prevent toll fraud (guide 2.2)"
    )]
    IrsfForInternetClient {
        /// The client.
        client: String,
    },
}
