//! Loading, rotating and persisting the provider's signing keys. (Being built.)
