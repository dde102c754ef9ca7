//! Bytes in and out: hex and base64 in every shape users paste, length-prefix
//! framings, and schemaless decoding.

pub mod framing;
pub mod lines;
pub mod raw;
pub mod shapes;

pub use framing::Framing;
pub use shapes::{decode_base64, decode_hex, looks_like_hex};
