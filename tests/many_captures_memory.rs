//! Many captures of a big network, read one after the other: each input's hosts are merged
//! into the run's as soon as the inputs before it are, and the merged hosts are summarised as
//! an input's own are, so that memory does not grow with the number of inputs. (Until then
//! every input's hosts were held to the end and merged there: eight copies of a 250 MB capture
//! of many hosts peaked at 327,096 KB with `--threads 1`, one at 57,396 KB; now the eight peak
//! at 111,088 KB, `/usr/bin/time -f %M`.) On Linux, where the peak is measured, eight
//! captures may not take half as much memory again as two.

use std::io::Write;
use std::path::{Path, PathBuf};

mod common;

/// Machines in each capture: fewer than the binary summarises in one input
/// (`analyze::SUMMARISE_PAST`), so that each input's own hosts are all kept whole.
const MACHINES: u32 = 15_000;

/// Capture `n`: `MACHINES` machines of its own (in 100.64.0.0/10, local by default), each
/// sending one UDP datagram to a server of 93.184.216.0/24, a millisecond apart (as
/// `bench/make_stream.py`).
fn write_capture(path: &Path, n: u32) {
    // Written as it is made: this process's own peak counts in its children's.
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    out.write_all(&0xa1b2_c3d4u32.to_le_bytes()).unwrap();
    out.write_all(&[
        2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 1, 0, 0, 0,
    ])
    .unwrap();
    let start_us: u64 = 1_307_585_000 * 1_000_000 + u64::from(n) * 3_600_000_000;
    for m in 0..MACHINES {
        let machine = (0x6440_0000u32 + n * MACHINES + m).to_be_bytes();
        let server = [93, 184, 216, (m % 250) as u8 + 1];
        let builder = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(machine, server, 64)
            .udp(40_000 + (m % 20_000) as u16, 5000);
        let payload = [0u8; 32];
        let mut frame = Vec::with_capacity(builder.size(payload.len()));
        builder.write(&mut frame, &payload).unwrap();
        let t = start_us + u64::from(m) * 1_000;
        let len = (frame.len() as u32).to_le_bytes();
        for field in [(t / 1_000_000) as u32, (t % 1_000_000) as u32] {
            out.write_all(&field.to_le_bytes()).unwrap();
        }
        out.write_all(&len).unwrap();
        out.write_all(&len).unwrap();
        out.write_all(&frame).unwrap();
    }
    out.flush().unwrap();
}

#[test]
fn many_captures_do_not_hold_every_input_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let captures: Vec<PathBuf> = (0..8)
        .map(|n| {
            let path = dir.path().join(format!("hour-{n}.pcap"));
            write_capture(&path, n);
            path
        })
        .collect();
    let mut peaks = Vec::new();
    for inputs in [&captures[..2], &captures[..]] {
        let (report, peak) = common::analyze_child(&[], inputs);
        let machines = MACHINES as usize * inputs.len();
        // Every machine is counted, none is listed (none has a sign), every input reported
        // in the order given.
        assert_eq!(report["totals"]["labels"]["no-skype"], machines);
        assert_eq!(report["quiet_hosts"], machines);
        assert_eq!(report["hosts"], serde_json::json!([]));
        let paths: Vec<&str> = report["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["path"].as_str().unwrap())
            .collect();
        let given: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(paths, given);
        peaks.push(peak);
    }
    common::assert_peak_grows_little(("2 captures", peaks[0]), ("8 captures", peaks[1]));
}
