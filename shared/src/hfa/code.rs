//! The `wire_code!` macro: proprietary codes as newtypes over their integer.
//!
//! HFA codes are not public, peers may send codes this crate has never seen,
//! and a QA engineer reads them next to a Wireshark trace. So a code is not a
//! Rust `enum` (which would have to reject or lose unknown values) but a
//! newtype with named constants, in the style of rustls' `enum_builder!`:
//! unknown values survive a decode/encode round trip, and `Debug` prints the
//! value in hex with its name when it has one, e.g. `MessageType(0x04 Register)`
//! or `MessageType(0x99)`.

/// Declares `pub struct $name(pub $int)` with named constants, `name()`,
/// hex `Debug`/`Display` and conversions from and to the integer.
macro_rules! wire_code {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($int:ty) {
            $( $(#[$cmeta:meta])* $konst:ident = $value:expr => $label:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $int);

        impl $name {
            $( $(#[$cmeta])* pub const $konst: Self = Self($value); )*

            /// The name of a known code; `None` for a code this crate does not know.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $( Self::$konst => Some($label), )*
                    _ => None,
                }
            }
        }

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }

        /// The value in hex, followed by its name when known: `0x04 Register`.
        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self.name() {
                    Some(name) => write!(f, "{:#04x} {}", self.0, name),
                    None => write!(f, "{:#04x}", self.0),
                }
            }
        }

        impl From<$int> for $name {
            fn from(value: $int) -> Self {
                Self(value)
            }
        }

        impl From<$name> for $int {
            fn from(code: $name) -> Self {
                code.0
            }
        }
    };
}

pub(crate) use wire_code;

#[cfg(test)]
mod tests {
    wire_code! {
        /// A code for the test.
        pub struct Sample(u8) {
            /// One.
            ONE = 0x01 => "One",
        }
    }

    #[test]
    fn known_and_unknown_codes_print_in_hex() {
        assert_eq!(format!("{:?}", Sample::ONE), "Sample(0x01 One)");
        assert_eq!(format!("{:?}", Sample(0x99)), "Sample(0x99)");
        assert_eq!(Sample::ONE.to_string(), "0x01 One");
        assert_eq!(Sample(0x99).name(), None);
        assert_eq!(u8::from(Sample::from(7)), 7);
    }
}
