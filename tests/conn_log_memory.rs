//! A Zeek conn.log of a big network: each connection from a machine never seen before. Its
//! flows leave the flow table in batches and their hosts are summarised as they go, the last
//! ones too: until the log's last flows went in batches like the others, a log shorter than a
//! batch (`analyze::ZEEK_BATCH`, 262,144 connections) was gathered whole at the end, every
//! machine at once, and a log of 120,000 machines peaked at 177 MiB, 3.2 times a log of
//! 40,000 (this test, before the change). On Linux, where the peak is measured, three times
//! the machines may not take half as much memory again.

use std::io::Write;
use std::path::Path;

mod common;

const HEADER: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n\
#unset_field\t-\n#path\tconn\n#open\t2012-06-01-00-00-00\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t\
orig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\t\
orig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\t\
bool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n";

/// A conn.log of `machines` connections, one every 0.5 ms, each from its own machine of
/// 10.0.0.0/8 to its own server of 93.184.0.0/16 on port 443 (as `bench/make_connlog.py`).
fn write_log(path: &Path, machines: u32) {
    // Written as it is made: this process's own peak counts in its children's.
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    out.write_all(HEADER.as_bytes()).unwrap();
    let start_us: u64 = 1_338_508_800 * 1_000_000;
    for i in 0..machines {
        let t = start_us + u64::from(i) * 500;
        let [_, a, b, c] = i.to_be_bytes();
        let [_, _, s, d] = i.to_be_bytes();
        writeln!(
            out,
            "{}.{:06}\tC{i:017}\t10.{a}.{b}.{c}\t{}\t93.184.{s}.{d}\t443\ttcp\tssl\t1.5\t500\t\
             4000\tSF\tT\tF\t0\tShADadFf\t8\t900\t8\t4400\t(empty)",
            t / 1_000_000,
            t % 1_000_000,
            40_000 + i % 20_000,
        )
        .unwrap();
    }
    out.flush().unwrap();
}

#[test]
fn a_conn_log_of_new_machines_does_not_hold_them_all_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut peaks = Vec::new();
    for machines in [40_000u32, 120_000] {
        let log = dir.path().join(format!("conn-{machines}.log"));
        write_log(&log, machines);
        let (report, peak) = common::analyze_child(&[], &[&log]);
        let input = &report["inputs"][0];
        assert_eq!(input["format"], "zeek-conn", "{input}");
        assert_eq!(input["problems"], serde_json::json!([]), "{input}");
        // Every machine is counted, none is listed (none has a sign).
        let totals = &report["totals"];
        assert_eq!(totals["flows"], machines, "{totals}");
        assert_eq!(totals["labels"]["no-skype"], machines, "{totals}");
        assert_eq!(report["quiet_hosts"], machines);
        assert_eq!(report["hosts"], serde_json::json!([]));
        // Most of them were summarised as the log was read (some of the last may not be).
        let summarised = report["memory"]["hosts_summarised"].as_u64().unwrap();
        assert!(summarised * 2 > u64::from(machines), "{}", report["memory"]);
        std::fs::remove_file(&log).unwrap();
        peaks.push(peak);
    }
    common::assert_peak_grows_little(
        ("40,000 machines", peaks[0]),
        ("120,000 machines", peaks[1]),
    );
}
