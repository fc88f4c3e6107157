//! Fuzz target: `decode::decode` then `decode::app::Inspector::inspect` on one frame (with
//! one inspector for the whole run, as the tracker keeps one per input); and
//! `decode::shard_of`, which must give a shard in range for any frame.
//!
//! The first byte picks a link type among those the decoder supports; the rest is the frame.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use tomskype::decode::{self, app};

thread_local! {
    static INSPECTOR: RefCell<app::Inspector> = RefCell::new(app::Inspector::new());
}

const LINK_TYPES: [u32; 10] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, frame)) = data.split_first() else {
        return;
    };
    let link_type = LINK_TYPES[usize::from(pick) % LINK_TYPES.len()];
    let shards = u32::from(pick >> 4) + 1;
    assert!(decode::shard_of(link_type, frame, shards) < shards);
    if let Ok(d) = decode::decode(link_type, frame) {
        // The payload is a slice of the frame.
        let start = d.payload.as_ptr() as usize;
        let base = frame.as_ptr() as usize;
        assert!(
            d.payload.is_empty()
                || (start >= base && start + d.payload.len() <= base + frame.len())
        );
        let _ = decode::has_ports(&d);
        INSPECTOR.with(|inspector| {
            let mut inspector = inspector.borrow_mut();
            let Ok(Some(fact)) = inspector.inspect(&d) else {
                return;
            };
            match fact {
                app::AppFact::Dns(msg) => {
                    let _ = msg.resolutions().count();
                }
                app::AppFact::Sni(name) => assert!(!name.chars().any(char::is_control)),
                app::AppFact::Http(req) => {
                    let _ = req.path();
                    let _ = req.query_param_names().count();
                }
                // Only UDP carries Skype's signs here (STUN, classic framing).
                app::AppFact::Skype(_) => assert_eq!(d.proto, decode::proto::UDP),
            }
        });
    }
});
