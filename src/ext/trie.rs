//! A persistent map from code-like to value: a hash array mapped trie whose
//! nodes are shared between versions, so a changed copy costs O(log n)
//! (the nodes on one path are copied; everything else is shared) where
//! cloning a hash map cost O(n).
//!
//! Keys are addresses mixed by a bijection of `u64`, so two keys never share
//! a hash and no collision lists are needed: two keys' paths part within 13
//! levels of 5 bits. A node finds a child through a 32-byte position table
//! rather than a bitmap's population count, which without the POPCNT
//! instruction (not in the x86-64 baseline) costs a dozen instructions per
//! level of a lookup.

use std::sync::Arc;

use crate::object::ObjectRef;

const BITS: u32 = 5;
const MASK: u64 = (1 << BITS) - 1;

/// A bijective mix of an address (an odd multiplier, then the bytes
/// reversed so the best-mixed high bits pick the first levels), so the trie
/// stays shallow for aligned, clustered addresses.
#[inline]
fn hash(key: ObjectRef) -> u64 {
    (key.addr() as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .swap_bytes()
}

/// A position table's mark for "no child".
const NONE: u8 = u8::MAX;

#[derive(Clone, Debug)]
enum Slot<V> {
    Leaf(ObjectRef, V),
    Node(Arc<Node<V>>),
}

/// One level: for each of the 32 values of the level's hash bits, the
/// index of its child in `slots` (or [`NONE`]), and the children.
#[derive(Clone, Debug)]
struct Node<V> {
    pos: [u8; 32],
    slots: Vec<Slot<V>>,
}

impl<V> Node<V> {
    fn new() -> Node<V> {
        Node {
            pos: [NONE; 32],
            slots: Vec::new(),
        }
    }

    /// The index in `slots` of bucket `b`'s child, if any.
    #[inline]
    fn child(&self, b: usize) -> Option<usize> {
        let i = self.pos[b];
        (i != NONE).then_some(usize::from(i))
    }

    /// Remove bucket `b`'s child (at `i`), moving the last child into its
    /// place.
    fn take(&mut self, b: usize, i: usize) -> Slot<V> {
        self.pos[b] = NONE;
        let last = self.slots.len() - 1;
        if i != last {
            let moved = self.pos.iter().position(|&p| usize::from(p) == last);
            self.pos[moved.expect("every child has a bucket")] = i as u8;
        }
        self.slots.swap_remove(i)
    }
}

/// The map. Cloning shares every node.
#[derive(Clone, Debug)]
pub(crate) struct Trie<V> {
    /// Always there (empty for an empty map), so a lookup starts without a
    /// test.
    root: Arc<Node<V>>,
    len: usize,
}

impl<V> Default for Trie<V> {
    fn default() -> Self {
        Trie {
            root: Arc::new(Node::new()),
            len: 0,
        }
    }
}

/// The bucket of hash `h` at the level starting at bit `shift`.
#[inline]
fn bucket(h: u64, shift: u32) -> usize {
    ((h >> shift) & MASK) as usize
}

impl<V: Clone> Trie<V> {
    /// How many keys.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no keys.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value of `key`.
    pub(crate) fn get(&self, key: ObjectRef) -> Option<&V> {
        let h = hash(key);
        let mut node = &*self.root;
        let mut shift = 0;
        loop {
            match &node.slots[node.child(bucket(h, shift))?] {
                Slot::Leaf(k, v) => return (*k == key).then_some(v),
                Slot::Node(child) => {
                    node = child;
                    shift += BITS;
                }
            }
        }
    }

    /// Set `key` to `value`; returns the old value.
    pub(crate) fn insert(&mut self, key: ObjectRef, value: V) -> Option<V> {
        let old = insert_at(&mut self.root, hash(key), 0, key, value);
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    /// Remove `key`; returns its value.
    pub(crate) fn remove(&mut self, key: ObjectRef) -> Option<V> {
        let old = remove_at(&mut self.root, hash(key), 0, key)?;
        self.len -= 1;
        Some(old)
    }

    /// Every entry, in no particular order.
    pub(crate) fn for_each(&self, mut f: impl FnMut(ObjectRef, &V)) {
        fn walk<V>(node: &Node<V>, f: &mut impl FnMut(ObjectRef, &V)) {
            for slot in &node.slots {
                match slot {
                    Slot::Leaf(k, v) => f(*k, v),
                    Slot::Node(child) => walk(child, f),
                }
            }
        }
        walk(&self.root, &mut f);
    }
}

fn insert_at<V: Clone>(
    node: &mut Arc<Node<V>>,
    h: u64,
    shift: u32,
    key: ObjectRef,
    value: V,
) -> Option<V> {
    let node = Arc::make_mut(node);
    let b = bucket(h, shift);
    let Some(i) = node.child(b) else {
        node.pos[b] = node.slots.len() as u8;
        node.slots.push(Slot::Leaf(key, value));
        return None;
    };
    match &mut node.slots[i] {
        Slot::Node(child) => insert_at(child, h, shift + BITS, key, value),
        Slot::Leaf(k, v) if *k == key => Some(std::mem::replace(v, value)),
        Slot::Leaf(k, v) => {
            // Two keys in one bucket: push both one level down (their
            // hashes differ, so they part at some level).
            let (k, v) = (*k, v.clone());
            let mut child = Arc::new(Node::new());
            insert_at(&mut child, hash(k), shift + BITS, k, v);
            insert_at(&mut child, h, shift + BITS, key, value);
            node.slots[i] = Slot::Node(child);
            None
        }
    }
}

fn remove_at<V: Clone>(node: &mut Arc<Node<V>>, h: u64, shift: u32, key: ObjectRef) -> Option<V> {
    let b = bucket(h, shift);
    let i = node.child(b)?;
    // Look before copying: a missing key copies nothing.
    if let Slot::Leaf(k, _) = &node.slots[i] {
        if *k != key {
            return None;
        }
    }
    let node = Arc::make_mut(node);
    match &mut node.slots[i] {
        Slot::Leaf(..) => match node.take(b, i) {
            Slot::Leaf(_, v) => Some(v),
            Slot::Node(_) => unreachable!("checked to be a leaf"),
        },
        Slot::Node(child) => {
            let old = remove_at(child, h, shift + BITS, key)?;
            // A child left with one leaf folds back into this level, so the
            // trie keeps the shape insertions alone would give it.
            if child.slots.len() == 1 {
                if let Slot::Leaf(k, v) = &child.slots[0] {
                    node.slots[i] = Slot::Leaf(*k, v.clone());
                }
            }
            Some(old)
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn key(i: usize) -> ObjectRef {
        ObjectRef::from_addr(0x1000 + i * 16).unwrap()
    }

    #[test]
    fn inserts_gets_and_removes_like_a_hash_map() {
        let mut trie = Trie::default();
        let mut model = HashMap::new();
        let mut seed = 12345u64;
        for round in 0..20_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let k = key((seed >> 33) as usize % 3000);
            if seed & 3 == 0 {
                assert_eq!(trie.remove(k), model.remove(&k), "round {round}");
            } else {
                assert_eq!(
                    trie.insert(k, round),
                    model.insert(k, round),
                    "round {round}"
                );
            }
            assert_eq!(trie.len(), model.len());
        }
        for i in 0..3000 {
            assert_eq!(trie.get(key(i)), model.get(&key(i)));
        }
        let mut seen = 0;
        trie.for_each(|k, v| {
            assert_eq!(model.get(&k), Some(v));
            seen += 1;
        });
        assert_eq!(seen, model.len());
    }

    #[test]
    fn a_changed_copy_leaves_the_original_alone() {
        let mut a = Trie::default();
        for i in 0..1000 {
            a.insert(key(i), i);
        }
        let mut b = a.clone();
        b.insert(key(5), 50);
        b.remove(key(6));
        b.insert(key(2000), 2000);
        assert_eq!(a.get(key(5)), Some(&5));
        assert_eq!(a.get(key(6)), Some(&6));
        assert_eq!(a.get(key(2000)), None);
        assert_eq!(a.len(), 1000);
        assert_eq!(b.get(key(5)), Some(&50));
        assert_eq!(b.get(key(6)), None);
        assert_eq!(b.len(), 1000);
    }

    #[test]
    fn emptied_it_is_empty() {
        let mut t = Trie::default();
        for i in 0..100 {
            t.insert(key(i), ());
        }
        for i in 0..100 {
            assert_eq!(t.remove(key(i)), Some(()));
        }
        assert_eq!(t.len(), 0);
        assert!(t.root.slots.is_empty());
        assert_eq!(t.remove(key(1)), None);
    }
}
