//! Stage 3, flows: the name stores beside the flow table, and who each name belongs to.
//!
//! A name counts for a machine only when that machine itself produced it (DESIGN.md, "Whose
//! evidence is it?"), so every name is stored with its owner:
//! - DNS questions per client ([`NameSet`] per client address);
//! - DNS answers per client and answered address, each marked *solicited* when it answered a
//!   question that client was seen asking (same transaction id, ports and name, as Zeek pairs
//!   them) and *unsolicited* otherwise: anyone can put an answer on the wire;
//! - which hosts answered DNS questions for others ([`Clients`] per server): resolvers and
//!   forwarders, whose own lookups are made on their clients' behalf.
//!
//! Every store is bounded, and what goes past a bound is counted, never silently lost. A name
//! that a [`Watch`] says could be evidence (an indicator names it) is kept past the bound: a
//! busy host's thousands of lookups, or junk names sent ahead of the real one, must not push
//! evidence out. At most one name per watched group is kept past the bound, so the stores stay
//! bounded by the size of the indicator set even under a flood of watched names.

use std::fmt;
use std::hash::RandomState;
use std::net::IpAddr;

use rustc_hash::FxHashMap;

/// Tells the flow stage which names and requests could be evidence, so that no bound drops
/// them. Implemented by the indicator set (`knowledge::indicators`, which this stage does not
/// import: it is handed down as a predicate).
pub trait Watch: Send + Sync + fmt::Debug {
    /// The groups (e.g. the indicators' indexes) of every indicator that could match a DNS
    /// name, TLS server name or HTTP host; empty if none could.
    fn watch_name(&self, name: &str) -> Vec<u32>;
    /// Whether [`Watch::watch_name`] gives any group (the test without the groups, for what
    /// only needs to know).
    fn watches_name(&self, name: &str) -> bool {
        !self.watch_name(name).is_empty()
    }
    /// The groups of every indicator that could match an HTTP request; empty if none could.
    fn watch_request(&self, host: Option<&str>, target: &str, user_agent: Option<&str>)
        -> Vec<u32>;
}

/// How and when one name was seen in a [`NameSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// First seen, ns since the epoch.
    pub first_ns: i64,
    /// Times seen.
    pub count: u64,
    /// For DNS answers: whether at least one answered a question the client was seen asking.
    /// Always true for questions.
    pub solicited: bool,
}

/// A set of names with how each was seen, bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameSet {
    /// Name → how it was seen.
    /// (A hash map: looked up for every DNS message; sort before showing it.)
    pub names: FxHashMap<String, Seen>,
    /// Distinct names not kept because of the bound.
    pub dropped: u64,
    /// Watch groups already holding a name kept past the bound.
    over: Vec<u32>,
}

impl NameSet {
    /// Adds one sighting of `name`, keeping at most `bound` distinct names (and past it, one
    /// name per watch group).
    pub fn add(&mut self, name: &str, seen: Seen, bound: usize, watch: Option<&dyn Watch>) {
        if let Some(entry) = self.names.get_mut(name) {
            entry.first_ns = entry.first_ns.min(seen.first_ns);
            entry.count += seen.count;
            entry.solicited |= seen.solicited;
        } else if self.names.len() < bound || self.keep_past_bound(name, watch) {
            self.names.insert(name.to_owned(), seen);
        } else {
            self.dropped += 1;
        }
    }

    fn keep_past_bound(&mut self, name: &str, watch: Option<&dyn Watch>) -> bool {
        keep_past_bound(&mut self.over, name, watch)
    }

    /// Keeps every name a watch group holds and the `keep` others seen first (the earliest,
    /// then in name order), counting the rest as dropped; how many were dropped. What a
    /// memory budget sheds of a quiet host's DNS questions.
    pub fn thin(&mut self, keep: usize, watch: Option<&dyn Watch>) -> usize {
        if self.names.len() <= keep {
            return 0;
        }
        let mut others: Vec<(i64, &str)> = self
            .names
            .iter()
            .filter(|(name, _)| watch.is_none_or(|w| !w.watches_name(name)))
            .map(|(name, seen)| (seen.first_ns, name.as_str()))
            .collect();
        if others.len() <= keep {
            return 0;
        }
        others.sort_unstable();
        let gone: Vec<String> = others[keep..]
            .iter()
            .map(|(_, name)| (*name).to_owned())
            .collect();
        for name in &gone {
            self.names.remove(name);
        }
        self.names.shrink_to_fit();
        self.dropped += gone.len() as u64;
        gone.len()
    }

    /// Adds the names of `other` (with the same bound and watch).
    pub fn merge(&mut self, other: &NameSet, bound: usize, watch: Option<&dyn Watch>) {
        // In name order, so that which names the bound keeps does not depend on hashing.
        let mut theirs: Vec<(&String, &Seen)> = other.names.iter().collect();
        theirs.sort_unstable_by_key(|(name, _)| *name);
        for (name, &seen) in theirs {
            self.add(name, seen, bound, watch);
        }
        self.dropped += other.dropped;
    }
}

/// Whether a name that a full store of names would not keep is kept past its bound: when an
/// indicator watches it and one of its watch groups has no name kept past the bound yet
/// (`over` lists those groups, and takes this name's). So a store holds at most its bound and
/// one name per watch group, and never drops what could match an indicator for want of one:
/// a name that two indicators watch is kept even when another name took the first one's
/// group (a forger's name, sent first to spend it).
pub fn keep_past_bound(over: &mut Vec<u32>, name: &str, watch: Option<&dyn Watch>) -> bool {
    watch.is_some_and(|w| take_new(over, w.watch_name(name)))
}

/// Adds to `over` the `groups` it lacks; whether there were any.
pub fn take_new<T: PartialEq>(over: &mut Vec<T>, groups: impl IntoIterator<Item = T>) -> bool {
    let mut new = false;
    for group in groups {
        if !over.contains(&group) {
            over.push(group);
            new = true;
        }
    }
    new
}

/// At most this many distinct clients are kept per DNS server (the rest are counted).
pub const MAX_CLIENTS_PER_SERVER: usize = 64;

/// The distinct clients a DNS server answered, bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Clients {
    /// Clients, in the order first answered.
    pub kept: Vec<IpAddr>,
    /// Further distinct clients past the bound (an upper estimate: they are not remembered).
    pub more: u64,
}

impl Clients {
    /// Records `client`.
    pub fn add(&mut self, client: IpAddr) {
        if self.kept.contains(&client) {
            return;
        }
        if self.kept.len() < MAX_CLIENTS_PER_SERVER {
            self.kept.push(client);
        } else {
            self.more += 1;
        }
    }

    /// Adds the clients of `other`.
    pub fn merge(&mut self, other: &Clients) {
        for &c in &other.kept {
            self.add(c);
        }
        self.more += other.more;
    }

    /// How many distinct clients (at least).
    pub fn count(&self) -> u64 {
        self.kept.len() as u64 + self.more
    }
}

/// The key of a DNS question waiting for its answer: the client's and the server's address
/// and port, the transport, and the transaction id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DnsKey {
    /// The client that asked.
    pub client: (IpAddr, u16),
    /// The server it asked.
    pub server: (IpAddr, u16),
    /// IP protocol (UDP or TCP).
    pub proto: u8,
    /// DNS transaction id.
    pub id: u16,
}

/// At most this many DNS questions wait for their answers at once.
pub const MAX_PENDING_DNS: usize = 1 << 16;
/// A question older than this (capture time) no longer waits: resolvers give up sooner.
pub const DNS_ANSWER_WINDOW_NS: i64 = 30_000_000_000;

/// DNS questions waiting for their answers, bounded in count and time. A question is kept as
/// its time and a hash of its name without case (no allocation per question: DNS is most of
/// the packets that reach the parsers).
///
/// When the store is full, the question asked first goes to make room ([`PendingDns::ask`],
/// found in constant time: `crate::arrivals`). Until 2026-12-01 a full store was searched
/// whole for questions too old to be answered at each new question, and the new one dropped
/// if there were none: 100,000 questions with no answers (`bench/make_flood.py dns`) took
/// 15 s to read. Dropping the oldest also lets a question asked during a flood wait for its
/// answer while 65,536 others come after it, where dropping the newest lost every question
/// asked until the flood's were 30 s old.
#[derive(Debug, Clone, Default)]
pub struct PendingDns {
    waiting: FxHashMap<DnsKey, (i64, u64)>,
    /// The questions in the order asked, while the store is full.
    order: crate::arrivals::Arrivals<DnsKey>,
    /// The key of the names' hashes (see `name_hash`).
    names: RandomState,
    /// Questions that stopped waiting before their answer could come, to make room for newer
    /// ones: their answers, if any, read as unsolicited.
    pub dropped: u64,
}

impl PendingDns {
    /// Records a question for `name` asked at `ts`, making room if the store is full by
    /// forgetting the question asked first (counted in `dropped` if it could still have been
    /// answered at `ts`).
    pub fn ask(&mut self, key: DnsKey, ts: i64, name: &str) {
        if self.waiting.len() >= MAX_PENDING_DNS && !self.waiting.contains_key(&key) {
            if let Some((first, asked)) = self.order.take_oldest(
                self.waiting.iter().map(|(k, &(at, _))| (*k, at)),
                still_waits(&self.waiting),
            ) {
                self.waiting.remove(&first);
                if ts.saturating_sub(asked) <= DNS_ANSWER_WINDOW_NS {
                    self.dropped += 1;
                }
            }
        }
        self.waiting.insert(key, (ts, name_hash(&self.names, name)));
        let held = self.waiting.len();
        self.order.push(key, ts, held, still_waits(&self.waiting));
    }

    /// Forgets the questions asked longer than [`DNS_ANSWER_WINDOW_NS`] before `now`: no answer
    /// can pair with them any more (as [`PendingDns::answer`] judges). Without this they stayed
    /// until the store was full: a capture with many unanswered questions kept tens of
    /// thousands, and every question asked missed the caches.
    pub fn expire(&mut self, now: i64) {
        let waiting = &mut self.waiting;
        waiting.retain(|_, (asked, _)| now.saturating_sub(*asked) <= DNS_ANSWER_WINDOW_NS);
        self.order.retain(waiting.len(), still_waits(waiting));
    }

    /// Whether an answer for `name` at `ts` answers a question that waits under `key`; the
    /// question stops waiting either way when the key matches. Names compare without case
    /// (resolvers may change it, RFC 4343).
    pub fn answer(&mut self, key: &DnsKey, ts: i64, name: &str) -> bool {
        match self.waiting.remove(key) {
            Some((asked, q)) => {
                q == name_hash(&self.names, name)
                    && ts.saturating_sub(asked) <= DNS_ANSWER_WINDOW_NS
            }
            None => false,
        }
    }
}

/// Whether the question of `key` asked at `asked` still waits in `waiting` (see
/// `crate::arrivals`).
fn still_waits(waiting: &FxHashMap<DnsKey, (i64, u64)>) -> impl Fn(&DnsKey, i64) -> bool + '_ {
    move |key, asked| waiting.get(key).is_some_and(|&(at, _)| at == asked)
}

/// A hash of `name` that ignores ASCII case (resolvers may change it, RFC 4343), keyed by
/// `state`. Keyed, because an answer whose name's hash equals the question's counts as asked
/// for: a forger who could compute the hash could make a name of their choice read as asked
/// for in place of the one that was. The name is lowered 64 bytes at a time on the stack and
/// hashed in those pieces (a SipHash stream: the same as hashing it whole). More instructions
/// than the byte-at-a-time FxHash it replaced, the same wall time (bench/RESULTS.md).
fn name_hash(state: &RandomState, name: &str) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = state.build_hasher();
    let mut lower = [0u8; 64];
    for piece in name.as_bytes().chunks(lower.len()) {
        let lower = &mut lower[..piece.len()];
        for (l, b) in lower.iter_mut().zip(piece) {
            *l = b.to_ascii_lowercase();
        }
        h.write(lower);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names under tom.com in group 1, and skypetools1.tom.com in group 2 as well.
    #[derive(Debug)]
    struct TomWatch;
    impl Watch for TomWatch {
        fn watch_name(&self, name: &str) -> Vec<u32> {
            let mut groups = Vec::new();
            if name.ends_with("tom.com") {
                groups.push(1);
            }
            if name == "skypetools1.tom.com" {
                groups.push(2);
            }
            groups
        }
        fn watch_request(&self, host: Option<&str>, _: &str, _: Option<&str>) -> Vec<u32> {
            host.map(|h| self.watch_name(h)).unwrap_or_default()
        }
    }

    fn seen(ts: i64) -> Seen {
        Seen {
            first_ns: ts,
            count: 1,
            solicited: true,
        }
    }

    #[test]
    fn thinning_keeps_the_first_and_every_watched_name_and_counts_the_rest() {
        let mut set = NameSet::default();
        // Added out of time order, with two names at the same first time.
        for i in [5, 3, 9, 0, 7, 1, 8, 2, 6, 4] {
            set.add(&format!("n{i}.example"), seen(i / 2), 100, Some(&TomWatch));
        }
        set.add("im.tom.com", seen(50), 100, Some(&TomWatch));
        set.add("skypetools.tom.com", seen(60), 100, Some(&TomWatch));
        assert_eq!(set.thin(3, Some(&TomWatch)), 7);
        let mut kept: Vec<&str> = set.names.keys().map(String::as_str).collect();
        kept.sort_unstable();
        assert_eq!(
            kept,
            [
                "im.tom.com",
                "n0.example",
                "n1.example",
                "n2.example",
                "skypetools.tom.com"
            ]
        );
        assert_eq!(set.dropped, 7);
        // Nothing more to drop.
        assert_eq!(set.thin(3, Some(&TomWatch)), 0);
        assert_eq!(set.dropped, 7);
    }

    #[test]
    fn bound_counts_what_it_drops_and_keeps_watched_names() {
        let mut set = NameSet::default();
        for i in 0..10 {
            set.add(&format!("n{i}.example"), seen(i), 4, Some(&TomWatch));
        }
        assert_eq!((set.names.len(), set.dropped), (4, 6));
        set.add("skypetools.tom.com", seen(20), 4, Some(&TomWatch));
        assert!(set.names.contains_key("skypetools.tom.com"));
        // One per group past the bound: a flood of watched names stays bounded.
        set.add("x1.skypetools.tom.com", seen(21), 4, Some(&TomWatch));
        assert!(!set.names.contains_key("x1.skypetools.tom.com"));
        assert_eq!(set.dropped, 7);
        // A name two indicators watch is kept although a name of the first one's group was
        // kept past the bound before it (a forger's, sent first to spend the group); then its
        // groups are spent too.
        set.add("skypetools1.tom.com", seen(22), 4, Some(&TomWatch));
        assert!(set.names.contains_key("skypetools1.tom.com"));
        set.add("x2.tom.com", seen(23), 4, Some(&TomWatch));
        assert!(!set.names.contains_key("x2.tom.com"));
        assert_eq!(set.dropped, 8);
        // Without a watch, nothing passes the bound.
        let mut plain = NameSet::default();
        for i in 0..5 {
            plain.add(&format!("n{i}.tom.com"), seen(i), 4, None);
        }
        assert_eq!((plain.names.len(), plain.dropped), (4, 1));
    }

    #[test]
    fn solicited_sticks_and_counts_add() {
        let mut set = NameSet::default();
        let mut s = seen(5);
        s.solicited = false;
        set.add("a.example", s, 4, None);
        set.add("a.example", seen(3), 4, None);
        assert_eq!(
            set.names["a.example"],
            Seen {
                first_ns: 3,
                count: 2,
                solicited: true
            }
        );
    }

    #[test]
    fn answers_pair_with_their_question_once() {
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let key = DnsKey {
            client: (ip("10.0.0.2"), 40000),
            server: (ip("10.0.0.1"), 53),
            proto: 17,
            id: 7,
        };
        let mut p = PendingDns::default();
        assert!(!p.answer(&key, 1, "a.example"), "no question yet");
        p.ask(key, 1, "A.Example");
        assert!(p.answer(&key, 2, "a.example"));
        assert!(!p.answer(&key, 3, "a.example"), "answered already");
        p.ask(key, 1, "a.example");
        assert!(!p.answer(&key, 2, "b.example"), "another name");
        p.ask(key, 1, "a.example");
        assert!(
            !p.answer(&key, 1 + DNS_ANSWER_WINDOW_NS + 1, "a.example"),
            "too late"
        );
        // Forgotten once too old, as a late answer finds it.
        p.ask(key, 1, "a.example");
        p.expire(1 + DNS_ANSWER_WINDOW_NS);
        assert!(p.answer(&key, 2, "a.example"), "still in time");
        p.ask(key, 1, "a.example");
        p.expire(2 + DNS_ANSWER_WINDOW_NS);
        assert!(p.waiting.is_empty());
        assert!(!p.answer(&key, 2, "a.example"), "forgotten");
        // Names longer than the hash's 64-byte pieces compare whole, without case.
        let long = format!("{}.Example", "Ab".repeat(60));
        p.ask(key, 1, &long);
        assert!(p.answer(&key, 2, &long.to_ascii_lowercase()));
        let other = format!("{}.Example", "Ab".repeat(59) + "Ac");
        p.ask(key, 1, &long);
        assert!(!p.answer(&key, 2, &other), "differs past the first piece");
        p.ask(key, 1, &long);
        assert!(!p.answer(&key, 2, &long[..64]), "its first piece only");
    }

    #[test]
    fn a_full_store_forgets_the_question_asked_first() {
        let key = |n: usize| DnsKey {
            client: (IpAddr::from([10, 0, (n >> 8) as u8, n as u8]), 40000),
            server: (IpAddr::from([10, 255, 0, 1]), 53),
            proto: 17,
            id: (n >> 16) as u16,
        };
        let mut p = PendingDns::default();
        for n in 0..MAX_PENDING_DNS {
            p.ask(key(n), n as i64, "a.example");
        }
        // Full of recent questions: the next one waits, the first goes, and counts as dropped.
        p.ask(key(MAX_PENDING_DNS), 1_000_000, "a.example");
        assert_eq!((p.waiting.len(), p.dropped), (MAX_PENDING_DNS, 1));
        assert!(
            !p.answer(&key(0), 1_000_001, "a.example"),
            "the first was forgotten"
        );
        assert!(
            p.answer(&key(1), 1_000_001, "a.example"),
            "the second still waits"
        );
        assert!(p.answer(&key(MAX_PENDING_DNS), 1_000_001, "a.example"));
        // Answered and asked again (a new time): the stale entries are passed over, and the
        // question asked first among those waiting is the one that goes.
        p.ask(key(2), 2_000_000, "a.example");
        for n in 1..=3 {
            p.ask(key(MAX_PENDING_DNS + n), 2_000_000 + n as i64, "a.example");
        }
        assert_eq!((p.waiting.len(), p.dropped), (MAX_PENDING_DNS, 2));
        assert!(
            p.answer(&key(2), 2_000_003, "a.example"),
            "asked again, so not the oldest"
        );
        assert!(
            !p.answer(&key(3), 2_000_003, "a.example"),
            "the oldest waiting went"
        );
        // One too old to be answered goes without counting.
        let late = 5 + DNS_ANSWER_WINDOW_NS + 1;
        let dropped = p.dropped;
        p.ask(key(MAX_PENDING_DNS + 4), late, "a.example");
        p.ask(key(MAX_PENDING_DNS + 5), late, "a.example");
        assert_eq!(
            p.dropped, dropped,
            "question 4, asked at 4, could no longer be answered"
        );
        assert!(!p.answer(&key(4), late, "a.example"));
        // However many questions come and are answered, the order kept stays bounded.
        for n in 0..4 * MAX_PENDING_DNS {
            p.ask(key(n), late + n as i64, "b.example");
            if n % 2 == 0 {
                assert!(p.answer(&key(n), late + n as i64, "b.example"));
            }
            assert!(p.order.len() < 2 * (p.waiting.len() + 1) + 64);
            assert!(p.waiting.len() <= MAX_PENDING_DNS);
        }
        p.expire(late + 5 * MAX_PENDING_DNS as i64 + DNS_ANSWER_WINDOW_NS);
        assert!(p.waiting.is_empty() && p.order.len() == 0);
    }

    #[test]
    fn name_hashes_are_keyed() {
        // Two stores hash the same name differently (a forger cannot compute them), and
        // each the same without case.
        let (a, b) = (RandomState::new(), RandomState::new());
        assert_ne!(name_hash(&a, "a.example"), name_hash(&b, "a.example"));
        assert_eq!(name_hash(&a, "a.example"), name_hash(&a, "A.EXAMPLE"));
    }
}
