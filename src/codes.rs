//! The code formats of the registry, as types: the bottom of the house.
//! Everything that needs to know what a CBS municipality code or a registry
//! code looks like asks here, so `auth` can check a token's claim without
//! knowing the registry.

use std::fmt;

/// A CBS municipality code: `GM` and four digits (`GM0772` = Eindhoven).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MunicipalityCode(String);

/// A CBS youth-care region code: `JZ` and two digits (`JZ39`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

/// The registry's own codes (cooperations, care forms, providers, contracts):
/// upper-case letters, digits and hyphens, 2 to 64 characters, not starting
/// with a hyphen (`SAMEN-VOOR-JEUGD`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegistryCode(String);

fn prefixed_digits(code: &str, prefix: &str, digits: usize) -> bool {
    code.len() == prefix.len() + digits
        && code.starts_with(prefix)
        && code[prefix.len()..].bytes().all(|b| b.is_ascii_digit())
}

/// A code format: what it looks like, and an example for messages.
pub trait CodeFormat {
    /// An example of the form, for error messages.
    const EXAMPLE: &'static str;
    fn is_valid(code: &str) -> bool;
}

macro_rules! code_type {
    ($name:ident, $example:literal, |$code:ident| $rule:expr) => {
        impl CodeFormat for $name {
            const EXAMPLE: &'static str = $example;

            fn is_valid($code: &str) -> bool {
                $rule
            }
        }

        impl $name {
            pub fn is_valid(code: &str) -> bool {
                <Self as CodeFormat>::is_valid(code)
            }

            /// The code, if `text` has the form; `None` otherwise.
            pub fn parse(text: &str) -> Option<Self> {
                Self::is_valid(text).then(|| Self(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

code_type!(MunicipalityCode, "GM0772", |code| prefixed_digits(code, "GM", 4));
code_type!(RegionCode, "JZ39", |code| prefixed_digits(code, "JZ", 2));
code_type!(RegistryCode, "SAMEN-VOOR-JEUGD", |code| (2..=64).contains(&code.len())
    && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
    && !code.starts_with('-'));

/// Who can hold a role: a municipality, or (for account holding) a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HolderCode {
    Municipality(MunicipalityCode),
    Region(RegionCode),
}

impl HolderCode {
    pub fn parse(text: &str) -> Option<Self> {
        MunicipalityCode::parse(text)
            .map(HolderCode::Municipality)
            .or_else(|| RegionCode::parse(text).map(HolderCode::Region))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_forms() {
        assert!(MunicipalityCode::is_valid("GM0772"));
        for bad in ["GM772", "gm0772", "GM07720", "JZ39", "GM07a2", ""] {
            assert!(!MunicipalityCode::is_valid(bad), "{bad}");
        }
        assert!(RegionCode::is_valid("JZ39"));
        for bad in ["JZ3", "JZ390", "GM0772", "jz39"] {
            assert!(!RegionCode::is_valid(bad), "{bad}");
        }
        assert!(RegistryCode::is_valid("SAMEN-VOOR-JEUGD"));
        for bad in ["-X", "a", "lower-case", "X", "WITH SPACE"] {
            assert!(!RegistryCode::is_valid(bad), "{bad}");
        }
        assert_eq!(HolderCode::parse("JZ39"), Some(HolderCode::Region(RegionCode("JZ39".into()))));
        assert_eq!(HolderCode::parse("SAMEN"), None);
    }
}
