//! Leads: who they are (the record and its profile), where they came from.

/// Defines a named, ordered level enum (`Seniority`, `JobFunction`, `Channel`):
/// its names, `ALL`, `as_str`, `parse` and `Display`.
macro_rules! level_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// The accepted names, space-separated (for messages).
            pub const NAMES: &'static str = concat!($($text, " "),+);
            /// Every level, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The level's name as written in configuration.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The level with this name (ignoring ASCII case and surrounding
            /// spaces), if any.
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                $name::ALL.iter().copied().find(|l| l.as_str().eq_ignore_ascii_case(s))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

mod profile;
mod record;
mod source;

pub use profile::{Company, JobFunction, Person, Seniority, SizeBand, is_free_mail_domain};
pub use record::{AttributeError, Lead, keys};
pub use source::{Channel, Source};
