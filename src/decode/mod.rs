//! Stage 2, decode. (stub)
pub mod dns;
pub mod http;
pub mod tls;
