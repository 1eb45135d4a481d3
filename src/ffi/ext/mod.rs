//! The C side of the opt-in extensions (`docs/EXTENSIONS.md`).

mod codelike;
mod lasting;
mod options;

pub use codelike::*;
pub use lasting::*;
pub use options::*;
