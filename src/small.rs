//! Containers that are usually tiny: a fleet holds thousands of them, one per endpoint.

use std::collections::VecDeque;

/// Pushes onto a deque, growing one slot at a time up to four rather than to four at once:
/// a quiet endpoint's log, timeline or attempts hold a row or two.
pub(crate) fn push_back<T>(dq: &mut VecDeque<T>, v: T) {
    if dq.len() == dq.capacity() && dq.capacity() < 4 {
        dq.reserve_exact(1);
    }
    dq.push_back(v);
}

/// The same for a `Vec`.
pub(crate) fn push<T>(v: &mut Vec<T>, x: T) {
    if v.len() == v.capacity() && v.capacity() < 4 {
        v.reserve_exact(1);
    }
    v.push(x);
}

#[cfg(test)]
mod tests {
    #[test]
    fn grows_one_slot_at_a_time_while_small() {
        let mut dq = std::collections::VecDeque::new();
        super::push_back(&mut dq, 1u64);
        assert_eq!(dq.capacity(), 1);
        super::push_back(&mut dq, 2);
        assert_eq!(dq.capacity(), 2);
        let mut v = Vec::new();
        for i in 0..100 {
            super::push(&mut v, i);
        }
        assert_eq!(v.len(), 100);
    }
}
