//! The port rules: signalling ports should keep their defaults (guide
//! 2.5.1), and the RTP range must hold two ports per RTP proxy channel,
//! starting on an even port (guide 1.3.5, 2.5.2), because the company
//! router forwards exactly this range 1:1 (guide 3.1).

use super::error::ConfigError;
use super::model::{Config, DEFAULT_HFA_PORT, DEFAULT_HTTPS_PORT, Network};
use super::system::RtpRange;
use super::validate::Report;
use super::warning::ConfigWarning;

/// Signalling ports (guide 2.5.1) and the RTP range (guide 2.5.2, 3.1);
/// returns the range in use.
pub(super) fn check_ports(config: &Config, report: &mut Report) -> RtpRange {
    let Network {
        hfa_port,
        https_port,
        ..
    } = config.network;
    for (field, value, default) in [
        ("network.hfa_port", hfa_port, DEFAULT_HFA_PORT),
        ("network.https_port", https_port, DEFAULT_HTTPS_PORT),
    ] {
        if value == 0 {
            report.errors.push(ConfigError::PortZero { field });
        } else if value != default {
            report.warnings.push(ConfigWarning::PortChanged {
                field,
                value,
                default,
            });
        }
    }
    if hfa_port == https_port && hfa_port != 0 {
        report
            .errors
            .push(ConfigError::PortClash { port: https_port });
    }

    let model = config.system.model;
    let default = model.default_rtp_ports();
    let Some(range) = config.network.rtp_ports else {
        return default;
    };
    let channels = model.rtp_proxy_channels();
    if range.first == 0 {
        report.errors.push(ConfigError::PortZero {
            field: "network.rtp_ports.first",
        });
    } else if range.is_empty() {
        report.errors.push(ConfigError::RtpRangeReversed(range));
    } else if range.first % 2 != 0 {
        report.errors.push(ConfigError::RtpRangeOddStart(range));
    } else if range.len() < channels * 2 {
        report.errors.push(ConfigError::RtpRangeTooSmall {
            range,
            model,
            channels,
        });
    } else if range != default {
        report
            .warnings
            .push(ConfigWarning::RtpRangeChanged { range, default });
    }
    range
}
