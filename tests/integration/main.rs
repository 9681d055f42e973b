//! The integration suite: one binary, one module per area.

mod autotraits;
mod funnel;
mod lifecycle;
mod lifecycle_props;
mod roundtrip;
mod support;
