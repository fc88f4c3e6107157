//! Address facts shared by every stage: special-purpose ranges (RFC 6890 and friends).
//! (stub: to be written)
