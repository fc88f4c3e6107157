#!/usr/bin/env bash
# Writes seeds for the zeek_tsv and zeek_json fuzz targets into OUT/zeek_tsv and OUT/zeek_json
# (default: fuzz/seeds, which is committed): small conn, dns, ssl and http logs in Zeek's TSV
# and JSON forms, with escapes, sets, unset and empty fields. The first byte of each seed picks
# the log's file name in the targets (0 conn, 1 dns, 2 ssl, 3 http).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/seeds}
mkdir -p "$out/zeek_tsv" "$out/zeek_json"

head_tsv() { # path fields types
  printf '#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t%s\n#open\t2012-01-01-10-00-00\n#fields\t%s\n#types\t%s\n' "$1" "$2" "$3"
}
seed() { # target pick name; content on stdin
  { printf "\\x$(printf %02x "$2")"; cat; } > "$out/$1/$3"
}

head_tsv conn 'ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents' \
  'time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]' > /tmp/seed_zeek.$$
{ cat /tmp/seed_zeek.$$
  printf '1325412000.250000\tC1\t192.168.7.20\t50000\t211.100.41.76\t80\ttcp\thttp\t1.5\t300\t500\tSF\tT\tF\t0\tShADadFf\t6\t620\t5\t760\t(empty)\n'
  printf '1325412001.000000\tC2\tfe80::1\t5353\tff02::fb\t5353\tudp\tdns\t-\t-\t-\tS0\tT\tF\t0\tD\t1\t100\t0\t0\tCx,Cy\n'
  printf '#close\t2012-01-01-11-00-00\n'
} | seed zeek_tsv 0 conn.log
head_tsv dns 'ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	trans_id	query	qtype_name	rcode_name	answers	TTLs' \
  'time	string	addr	port	addr	port	enum	count	string	string	string	vector[string]	vector[interval]' > /tmp/seed_zeek.$$
{ cat /tmp/seed_zeek.$$
  printf '1325412000.250000\tD1\t192.168.7.20\t40000\t8.8.8.8\t53\tudp\t4660\tskypetools1.tom.com\tA\tNOERROR\tcdn.tom.com,211.100.41.76\t60.0,60.0\n'
  printf '1325412000.300000\tD2\t192.168.7.20\t40001\t8.8.8.8\t53\tudp\t4661\tw\\x09eird\\x1b[2J\\x2c.example\t-\t-\t(empty)\t-\n'
} | seed zeek_tsv 1 dns.log
head_tsv ssl 'ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	version	server_name	established' \
  'time	string	addr	port	addr	port	string	string	bool' > /tmp/seed_zeek.$$
{ cat /tmp/seed_zeek.$$
  printf '1325412000.250000\tS1\t10.0.0.5\t51000\t91.190.216.23\t443\tTLSv12\tlogin.skype.com\tT\n'
} | seed zeek_tsv 2 ssl.log
head_tsv http 'ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	trans_depth	method	host	uri	user_agent' \
  'time	string	addr	port	addr	port	count	string	string	string	string' > /tmp/seed_zeek.$$
{ cat /tmp/seed_zeek.$$
  printf '1325412000.250000\tC1\t192.168.7.20\t50000\t211.100.41.76\t80\t1\tGET\tskypetools1.tom.com\t/en_return_time.php?login_id=alice&code=0123\t-\n'
  printf 'not a record\n'
} | seed zeek_tsv 3 http.log
# zeek-cut -m output: a header line, no directives.
printf 'ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n1325412000.25\tC1\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\n' | seed zeek_tsv 0 cut.log
rm -f /tmp/seed_zeek.$$

printf '{"ts":1325412000.25,"uid":"C1","id.orig_h":"192.168.7.20","id.orig_p":50000,"id.resp_h":"211.100.41.76","id.resp_p":80,"proto":"tcp","duration":1.5,"history":"ShADadFf","orig_pkts":6,"orig_ip_bytes":620,"resp_pkts":5,"resp_ip_bytes":760}\n{"ts":"2012-01-01T10:00:01.000000Z","uid":"C2","id":{"orig_h":"fe80::1","orig_p":5353,"resp_h":"ff02::fb","resp_p":5353},"proto":"udp"}\n' | seed zeek_json 0 conn.json
printf '{"ts":1325412000.25,"id.orig_h":"192.168.7.20","id.orig_p":40000,"id.resp_h":"8.8.8.8","id.resp_p":53,"query":"skypetools1.tom.com","answers":["cdn.tom.com","211.100.41.76"],"TTLs":[60.0,60.0]}\n{"ts":1325412000.3,"query":"\\u001b[2J\\u202e","answers":null}\n' | seed zeek_json 1 dns.json
printf '{"ts":1325412000.25,"uid":"S1","id.orig_h":"10.0.0.5","id.orig_p":51000,"id.resp_h":"91.190.216.23","id.resp_p":443,"version":"TLSv12","server_name":"login.skype.com","established":true}\n' | seed zeek_json 2 ssl.json
printf '{"ts":1325412000.25,"uid":"C1","id.orig_h":"192.168.7.20","id.orig_p":50000,"id.resp_h":"211.100.41.76","id.resp_p":80,"method":"GET","host":"skypetools1.tom.com","uri":"/en_return_time.php?login_id=alice","tags":[]}\n[1,2]\n{"ts":\n' | seed zeek_json 3 http.json
echo "zeek_tsv: $(ls "$out/zeek_tsv" | wc -l) files; zeek_json: $(ls "$out/zeek_json" | wc -l) files"
