//! Fuzz target: one frame through the general decoding path (`decode::layers::each`), which
//! opens tunnels (GRE, PPTP, ERSPAN, VXLAN, Geneve, GTP-U, IP in IP, MPLS, PPPoE, A-MSDU) up to
//! its nesting bound, and through each decapsulation function alone.
//!
//! The first byte picks a link type; the rest is the frame. Checks: no panic, every payload
//! handed out is a slice of the frame, at most one tunnel bit per kind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tomskype::decode::{layers, tunnel, Layer, TunnelKind};

const LINK_TYPES: [u32; 8] = [1, 101, 113, 276, 9, 105, 127, 0];

fn within(frame: &[u8], part: &[u8]) -> bool {
    let (base, start) = (frame.as_ptr() as usize, part.as_ptr() as usize);
    part.is_empty() || (start >= base && start + part.len() <= base + frame.len())
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, frame)) = data.split_first() else {
        return;
    };
    let link_type = LINK_TYPES[usize::from(pick) % LINK_TYPES.len()];
    let mut results = 0usize;
    let tunnels = layers::each(link_type, frame, &mut |layer| {
        results += 1;
        match layer {
            Layer::Packet(d) => assert!(within(frame, d.payload)),
            Layer::Fragment(f) => assert!(within(frame, f.head) && within(frame, f.payload)),
            Layer::Skipped(_) => {}
        }
    });
    assert!(results >= 1 || tunnels & layers::bit(TunnelKind::Amsdu) != 0);
    assert!(tunnels < 1 << TunnelKind::ALL.len());
    let _ = tunnel::gre(frame);
    let _ = tunnel::mpls(frame);
    let _ = tunnel::pppoe(frame);
    let _ = tunnel::ppp_ip(frame);
    for port in tunnel::UDP_PORTS {
        let _ = tunnel::udp(port, frame);
    }
});
