//! Host objects, seen only as opaque identities.
//!
//! The library never dereferences, retains or frees a host object (a
//! `PyObject *` on the C side); it only passes identities from the firer to
//! the tools. Keeping them as integers keeps raw pointers out of the core.

use std::num::NonZeroUsize;

/// The identity (address) of a host object. Never dereferenced.
/// `repr(transparent)`: `Option<ObjectRef>` is address-sized with `None` as
/// 0, which the dispatch's C-compatible record relies on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct ObjectRef(NonZeroUsize);

impl ObjectRef {
    /// An identity from an address; `None` for 0 (the C NULL).
    pub const fn from_addr(addr: usize) -> Option<ObjectRef> {
        match NonZeroUsize::new(addr) {
            Some(a) => Some(ObjectRef(a)),
            None => None,
        }
    }

    /// The address this identity stands for.
    pub const fn addr(self) -> usize {
        self.0.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_no_object() {
        assert_eq!(ObjectRef::from_addr(0), None);
        assert_eq!(
            ObjectRef::from_addr(0x1000).map(ObjectRef::addr),
            Some(0x1000)
        );
    }
}
