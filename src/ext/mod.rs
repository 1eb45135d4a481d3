//! The opt-in extensions (`docs/EXTENSIONS.md`): lasting DISABLE, per-tool
//! restart, local events and armed sites for code-likes, and the options.

pub mod codelike;
pub(crate) mod codelike_tables;
pub mod lasting;
pub(crate) mod option_bits;
pub mod options;
pub(crate) mod remember;
pub(crate) mod restarts;
pub mod sites;
pub(crate) mod trie;
