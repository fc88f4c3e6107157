//! Zeek logs as a source: the same verdicts as the packet path. For every set of
//! `../shared/corpora/zeek-logs/` that has both a trace and logs, the trace and the logs are
//! analysed apart and the labels of the hosts found by both must agree. Hosts may be found by
//! one side only, legitimately: Zeek decapsulates tunnels (GRE, Teredo, AYIYA) and logs the
//! inner connections, cut logs (`*.cut`, `ssl-to-http-server/`) lack the `ts` column so their
//! records are bad records, and btest masked the `ts` of every line (this test puts the
//! trace's first packet time in its place, so validity years come out the same).
//! Then generated logs carrying TOM-Skype's login beacon, in TSV and in JSON, must give
//! `tom-skype`, also beside a long dns.log and ssl.log read under a memory budget that is
//! always passed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use tomskype::addr::LocalNets;
use tomskype::analyze::{Analyzer, Budget, Inputs, Keep, Memory};
use tomskype::knowledge::geoip::GeoIp;
use tomskype::knowledge::indicators::IndicatorSet;
use tomskype::report::Report;

fn analyzer() -> Analyzer {
    Analyzer {
        geoip: GeoIp::embedded().expect("shipped GeoIP loads"),
        indicators: IndicatorSet::embedded().expect("shipped indicators load"),
        local: LocalNets::new(Vec::new()),
    }
}

fn analyse(paths: &[PathBuf]) -> Report {
    let a = analyzer();
    let traffic = Inputs::expand(paths).read(&a, 1, None);
    a.report(traffic)
}

fn labels(r: &Report) -> BTreeMap<String, &'static str> {
    r.hosts
        .iter()
        .map(|h| (h.address.to_string(), h.verdict.label.name()))
        .collect()
}

fn corpora() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpora/zeek-logs"
    ));
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("TOMSKYPE_REQUIRE_CORPORA").as_deref() == Ok("1") {
        panic!("TOMSKYPE_REQUIRE_CORPORA=1 but {} is absent", dir.display());
    }
    println!("skipped: {} is absent", dir.display());
    None
}

/// Copies the logs of `set` (every file but the trace, folders too) into `to`, with the masked
/// timestamps replaced by `ts`.
fn copy_logs(set: &Path, to: &Path, ts: &str) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(set).unwrap().flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            n += copy_logs(&path, &target, ts);
        } else if entry.file_name() != "trace.pcap" {
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&target, text.replace("XXXXXXXXXX.XXXXXX", ts)).unwrap();
            n += 1;
        }
    }
    n
}

/// The one corpus log without any header (wikipedia/, `zeek-cut` without `-m`).
const HEADERLESS: &str = "zeek.worker.conn.log";

#[test]
fn logs_and_traces_agree() {
    let Some(root) = corpora() else { return };
    let mut sets: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("trace.pcap").is_file())
        .collect();
    sets.sort();
    assert!(
        sets.len() >= 10,
        "expected the zeek-logs sets, found {}",
        sets.len()
    );
    let mut compared = 0;
    for set in &sets {
        let name = set.file_name().unwrap().to_string_lossy().into_owned();
        let trace = analyse(&[set.join("trace.pcap")]);
        assert!(!trace.inputs[0].unreadable, "{name}: trace unreadable");
        let first = trace.totals.first_seen.clone().expect("trace has packets");
        let first_ns = tomskype::analyze::read_capture(&set.join("trace.pcap"), None)
            .0
            .first_ns
            .unwrap();
        let ts = format!(
            "{}.{:06}",
            first_ns / 1_000_000_000,
            (first_ns % 1_000_000_000) / 1000
        );
        let tmp = tempfile::tempdir().unwrap();
        let copied = copy_logs(set, tmp.path(), &ts);
        let logs = analyse(&[tmp.path().to_owned()]);
        // Every log was taken for a Zeek log, none for a capture. A headerless cut log
        // (`zeek-cut` without -m) has nothing to tell it by: found in a folder, it is skipped.
        let headerless = usize::from(tmp.path().join(HEADERLESS).is_file());
        assert_eq!(logs.inputs.len(), copied - headerless, "{name}");
        for input in &logs.inputs {
            assert!(!input.path.ends_with(HEADERLESS), "{name}: {}", input.path);
            assert!(
                input.format.starts_with("zeek-"),
                "{name}: {} read as {}",
                input.path,
                input.format
            );
        }
        let (a, b) = (labels(&trace), labels(&logs));
        let has_conn = set.join("conn.log").is_file() || set.join("tsv/conn.log").is_file();
        let cut = name == "ssl-to-http-server";
        if has_conn && !cut {
            assert!(!b.is_empty(), "{name}: the logs gave no hosts");
        }
        let mut common = 0;
        for (host, label) in &b {
            if let Some(other) = a.get(host) {
                assert_eq!(
                    label, other,
                    "{name}: host {host} is {other} from the trace, {label} from the logs"
                );
                common += 1;
            }
        }
        let only_trace: Vec<_> = a.keys().filter(|h| !b.contains_key(*h)).collect();
        let only_logs: Vec<_> = b.keys().filter(|h| !a.contains_key(*h)).collect();
        println!("{name} (first packet {first}): {common} hosts agree; only in the trace {only_trace:?}; only in the logs {only_logs:?}");
        compared += common;
    }
    assert!(compared >= 5, "too few hosts compared: {compared}");
}

const CONN_TSV: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n";
const DNS_TSV: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tvector[string]\n";
const HTTP_TSV: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\thttp\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\tuser_agent\n#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\tstring\n";

const SSL_TSV: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tssl\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tserver_name\n#types\ttime\tstring\taddr\tport\taddr\tport\tstring\n";

const CLIENT: &str = "192.168.7.20";
const SERVER: &str = "211.100.41.76";
const TS: f64 = 1_325_412_000.25; // 2012-01-01

fn tom_tsv(dir: &Path) {
    let mut conn = String::from(CONN_TSV);
    let mut dns = String::from(DNS_TSV);
    let mut http = String::from(HTTP_TSV);
    for k in 0..3u32 {
        let t = TS + f64::from(k) * 40.0;
        let port = 50000 + k;
        conn.push_str(&format!("{t:.6}\tC{k}\t{CLIENT}\t{port}\t{SERVER}\t80\ttcp\thttp\t1.5\t300\t500\tSF\tT\tF\t0\tShADadFf\t6\t620\t5\t760\t(empty)\n"));
        conn.push_str(&format!("{t:.6}\tD{k}\t{CLIENT}\t{}\t8.8.8.8\t53\tudp\tdns\t0.02\t40\t80\tSF\tT\tF\t0\tDd\t1\t68\t1\t108\t(empty)\n", 40000 + k));
        dns.push_str(&format!("{t:.6}\tD{k}\t{CLIENT}\t{}\t8.8.8.8\t53\tudp\tskypetools1.tom.com\tcdn.tom.com,{SERVER}\n", 40000 + k));
        http.push_str(&format!("{t:.6}\tC{k}\t{CLIENT}\t{port}\t{SERVER}\t80\t1\tGET\tskypetools1.tom.com\t/en_return_time.php?login_id=alice&code=0123456789abcdef0123456789abcdef\t-\n"));
    }
    // One damaged line: counted, not fatal.
    http.push_str("this is not a record\n");
    std::fs::write(dir.join("conn.log"), conn).unwrap();
    std::fs::write(dir.join("dns.log"), dns).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(http.as_bytes()).unwrap();
    std::fs::write(
        dir.join("http.2012-01-01-00-00-00.log.gz"),
        gz.finish().unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("weird.log"), "#separator \\x09\n#path\tweird\n").unwrap();
}

fn tom_json(dir: &Path) {
    let mut conn = String::new();
    let mut http = String::new();
    let mut dns = String::new();
    for k in 0..3u32 {
        let t = TS + f64::from(k) * 40.0;
        let port = 50000 + k;
        let id = format!(
            r#""id.orig_h":"{CLIENT}","id.orig_p":{port},"id.resp_h":"{SERVER}","id.resp_p":80"#
        );
        conn.push_str(&format!("{{\"ts\":{t},\"uid\":\"C{k}\",{id},\"proto\":\"tcp\",\"duration\":1.5,\"history\":\"ShADadFf\",\"orig_pkts\":6,\"orig_ip_bytes\":620,\"resp_pkts\":5,\"resp_ip_bytes\":760}}\n"));
        http.push_str(&format!("{{\"ts\":{t},\"uid\":\"C{k}\",{id},\"method\":\"GET\",\"host\":\"skypetools1.tom.com\",\"uri\":\"/en_return_time.php?login_id=alice&code=0123456789abcdef0123456789abcdef\",\"tags\":[]}}\n"));
        dns.push_str(&format!("{{\"ts\":{t},\"id.orig_h\":\"{CLIENT}\",\"id.orig_p\":{},\"id.resp_h\":\"8.8.8.8\",\"id.resp_p\":53,\"query\":\"skypetools1.tom.com\",\"answers\":[\"{SERVER}\"]}}\n", 40000 + k));
    }
    std::fs::write(dir.join("conn.log"), conn).unwrap();
    std::fs::write(dir.join("http.log"), http).unwrap();
    std::fs::write(dir.join("dns.log"), dns).unwrap();
}

fn check_tom(report: &Report) {
    let host = report
        .hosts
        .iter()
        .find(|h| h.address.to_string() == CLIENT)
        .expect("the client is a host");
    assert_eq!(
        host.verdict.label.name(),
        "tom-skype",
        "{:#?}",
        host.evidence
    );
    let ids: Vec<&str> = host
        .endpoints
        .iter()
        .flat_map(|e| e.indicators.iter().map(String::as_str))
        .collect();
    assert!(ids.contains(&"tom-url-return-time"), "{ids:?}");
    assert!(report.inputs.iter().all(|i| i.format.starts_with("zeek-")));
}

#[test]
fn generated_tsv_logs_with_the_login_beacon_give_tom_skype() {
    let d = tempfile::tempdir().unwrap();
    tom_tsv(d.path());
    let report = analyse(&[d.path().to_owned()]);
    check_tom(&report);
    let http = report
        .inputs
        .iter()
        .find(|i| i.format == "zeek-http")
        .unwrap();
    assert!(http.gzip);
    assert_eq!(http.packets, 3);
    assert_eq!(http.problems.len(), 1);
    assert_eq!(http.problems[0].packet, Some(11));
    let weird = report
        .inputs
        .iter()
        .find(|i| i.format == "zeek-weird")
        .unwrap();
    assert!(!weird.unreadable && weird.packets == 0 && weird.problems.len() == 1);
}

/// The people's report counts a Zeek log's records as log records, not as packets, in every
/// language; beside a capture, both.
#[test]
fn the_report_for_people_counts_log_records_apart_from_packets() {
    use tomskype::report::lang::Lang;
    use tomskype::report::people::{story, Options};
    let d = tempfile::tempdir().unwrap();
    tom_tsv(d.path());
    let line = |paths: &[PathBuf], lang| {
        let options = Options {
            lang,
            all_hosts: false,
            local: None,
        };
        story(&analyse(paths), &options).inputs_line
    };
    let logs = [d.path().to_owned()];
    // conn.log 6 records, dns.log 3, http.log 3 (its damaged line is a problem, not a record),
    // weird.log none.
    assert_eq!(line(&logs, Lang::En), "Read 4 inputs, 12 log records.");
    assert_eq!(
        line(&logs, Lang::ZhCn),
        "读取了 4 个输入，共 12 条日志记录。"
    );
    assert_eq!(
        line(&logs, Lang::ZhTw),
        "讀取了 4 個輸入，共 12 筆日誌記錄。"
    );
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/no-skype-browsing.pcap");
    let packets = analyse(std::slice::from_ref(&capture)).inputs[0].packets;
    assert!(packets > 0);
    assert_eq!(
        line(std::slice::from_ref(&capture), Lang::En),
        format!("Read 1 input, {packets} packets.")
    );
    assert_eq!(
        line(&[capture, d.path().to_owned()], Lang::En),
        format!("Read 5 inputs, {packets} packets and 12 log records.")
    );
    // A log with no record read is still a log.
    assert_eq!(
        line(&[d.path().join("weird.log")], Lang::En),
        "Read 1 input, 0 log records."
    );
}

#[test]
fn generated_json_logs_with_the_login_beacon_give_tom_skype() {
    let d = tempfile::tempdir().unwrap();
    tom_json(d.path());
    let report = analyse(&[d.path().to_owned()]);
    check_tom(&report);
    assert!(report
        .inputs
        .iter()
        .all(|i| i.format.ends_with("-json") && i.problems.is_empty()));
}

/// Memory held, as a budget sees it that is passed and passed again at every look: twice what
/// it was at the look before (the budget acts again once a quarter more is held).
fn ever_more() -> usize {
    static LOOKS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = LOOKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    1usize.checked_shl(30 + n.min(32)).unwrap_or(usize::MAX)
}

#[test]
fn a_budget_sheds_long_logs_names_and_requests_and_keeps_the_verdict() {
    let d = tempfile::tempdir().unwrap();
    tom_tsv(d.path());
    // 100 other machines, each line of theirs at its time, from its machine and port.
    let theirs = |n: u32| {
        let t = TS + f64::from(n) * 0.01;
        (
            format!("{t:.6}"),
            format!("192.168.8.{}", n % 100 + 1),
            30000 + n % 20000,
        )
    };
    // They look up 20,000 names never asked before, each answered with an address never given
    // before: read before the conn.log, as every dns.log is.
    let mut dns = String::from(DNS_TSV);
    for n in 0..20_000u32 {
        let (t, client, port) = theirs(n);
        let answer = format!("198.18.{}.{}", n >> 8 & 255, n & 255);
        dns.push_str(&format!(
            "{t}\tE{n}\t{client}\t{port}\t8.8.8.8\t53\tudp\th{n}.example.com\t{answer}\n"
        ));
    }
    std::fs::write(d.path().join("dns.1.log"), dns).unwrap();
    // And an ssl.log: 20,000 connections of theirs to names never seen before, whose conn
    // records never come, and the TOM-Skype client's connections to a name an indicator
    // watches, which wait for theirs in the conn.log.
    let mut ssl = String::from(SSL_TSV);
    for n in 0..20_000u32 {
        let (t, client, port) = theirs(n);
        ssl.push_str(&format!(
            "{t}\tF{n}\t{client}\t{port}\t93.184.216.34\t443\ts{n}.example.com\n"
        ));
    }
    for k in 0..3u32 {
        let t = TS + f64::from(k) * 40.0;
        ssl.push_str(&format!(
            "{t:.6}\tC{k}\t{CLIENT}\t{}\t{SERVER}\t80\tskypetools1.tom.com\n",
            50000 + k
        ));
    }
    std::fs::write(d.path().join("ssl.log"), ssl).unwrap();
    // And an http.log: 20,000 browser requests of theirs, waiting for conn records that never
    // come, and one in proxy form (it names its receiver a proxy): only the proxy's stays.
    let mut http = String::from(HTTP_TSV);
    for n in 0..20_000u32 {
        let (t, client, port) = theirs(n);
        http.push_str(&format!(
            "{t}\tG{n}\t{client}\t{port}\t93.184.216.34\t80\t1\tGET\tw{n}.example.com\t/\tMozilla/5.0\n"
        ));
    }
    http.push_str(&format!(
        "{TS:.6}\tP0\t192.168.8.1\t29999\t192.168.8.250\t3128\t1\tGET\tw0.example.com\thttp://w0.example.com/\tMozilla/5.0\n"
    ));
    std::fs::write(d.path().join("http.1.log"), http).unwrap();
    let a = analyzer();
    let mut inputs = Inputs::expand(&[d.path().to_owned()]);
    let whole = a.report_with(inputs.read(&a, 1, None), 1, Keep::Signs);
    inputs.memory = Memory {
        summarise_past: None,
        budget: Some(Budget {
            limit: 1 << 30,
            held: ever_more,
        }),
    };
    let shed = a.report_with(inputs.read(&a, 1, None), 1, Keep::Signs);
    check_tom(&shed);
    // Shed at every look while the long dns.log was read (a look every 4,096 records), and
    // at the conn.log's one batch: questions past each machine's first 16 dropped.
    let mem = shed.memory;
    assert!(
        mem.budget_reached >= 20_000 / tomskype::zeek::LOOK_RECORDS,
        "{mem:?}"
    );
    assert!(mem.questions_dropped >= 100 * (200 - 16), "{mem:?}");
    // Exactly the names and requests no indicator watches: the client's three wait and stay,
    // and so does the request in proxy form, and what waits on a port an indicator names (the
    // machines' ports run through 30000-49999: Skype's 33033 is one).
    let on_watched_port = (0..20_000u32)
        .filter(|n| a.indicators.names_port((30000 + n % 20000) as u16))
        .count() as u64;
    assert_eq!(on_watched_port, 1);
    assert_eq!(mem.names_dropped, 20_000 - on_watched_port, "{mem:?}");
    assert_eq!(mem.requests_dropped, 20_000 - on_watched_port, "{mem:?}");
    assert!(mem.still_over, "{mem:?}");
    assert_eq!(mem.flows_ended_early, 0, "{mem:?}");
    assert_eq!(whole.memory.budget_reached, 0);
    // The same verdicts and evidence.
    assert_eq!(labels(&shed), labels(&whole));
    assert_eq!(shed.verdicts(), whole.verdicts());
}

#[test]
fn m57_short_logs_read_without_problems() {
    let Some(root) = corpora() else { return };
    let set = root.join("m57-short");
    let tmp = tempfile::tempdir().unwrap();
    copy_logs(&set, tmp.path(), "1258000000.000000");
    let report = analyse(&[tmp.path().to_owned()]);
    assert_eq!(report.inputs.len(), 4);
    for input in &report.inputs {
        let file = Path::new(&input.path).file_name().unwrap();
        let text = std::fs::read_to_string(set.join(file)).unwrap();
        let data_lines = text.lines().filter(|l| !l.starts_with('#')).count() as u64;
        assert_eq!(input.packets, data_lines, "{}", input.path);
        assert!(
            input.problems.is_empty(),
            "{}: {:?}",
            input.path,
            input.problems.first()
        );
    }
    assert!(!report.hosts.is_empty());
}
