# tomskype: the words it says to people, English: the reports (text and HTML), what `live` and
# `interfaces` say on the terminal, and why a command failed.
# Every message here must exist in zh-CN.ftl and zh-TW.ftl (a test checks).

n-machines = { $count ->
    [one] 1 machine
   *[other] { $count } machines
}

## The answer, first.
answer-tom = { $count } of { $total ->
    [one] 1 machine
   *[other] { $total } machines
} ran TOM-Skype: { $hosts }
answer-unclear = No machine ran TOM-Skype for certain, but { $count ->
    [one] 1 machine shows
   *[other] { $count } machines show
} some signs of it: { $hosts }
answer-regular = No machine ran TOM-Skype. Regular Skype: { $hosts }
answer-none = No machine ran TOM-Skype: none of the { $total ->
    [one] 1 machine
   *[other] { $total } machines
} shows any sign of Skype.
answer-no-machines = No machine was found in this traffic.
answer-nothing-read = Nothing was read: the inputs hold no packets or log records, so nothing can be said about any machine.
answer-also-unclear = Unclear signs also on: { $hosts }
answer-also-regular = Regular Skype also on: { $hosts }
answer-more = { $hosts } and { $more } more (each is described below)

## A machine.
label-tom-skype = TOM-Skype
label-regular-skype = Regular Skype
label-inconclusive = Unclear
label-no-skype = No Skype
build-english = English build
build-chinese = Chinese build
confidence-high = high confidence
confidence-medium = medium confidence
confidence-low = low confidence

meaning-tom-skype = This machine ran TOM-Skype, the Skype build TOM Online distributed in China (2005–2013). It scanned every chat for listed words and uploaded matching messages to servers in China, the user's and their contacts'.
advice-tom-skype = What to do: uninstall TOM-Skype and install a messenger from its maker (Skype from Microsoft). Assume that chats typed on this machine, and chats with its contacts, may have been read and stored in China.
meaning-regular-skype = This machine runs regular Skype, not TOM's build.
advice-regular-skype = Nothing to do on this machine. If one of your contacts used TOM-Skype, your chats with them were logged on their side.
meaning-inconclusive = There are signs, but too few or too indirect to say which Skype this machine runs.
advice-inconclusive = What to do: capture again while this machine starts Skype, logs in and sends a message (tomskype live), then read the new verdict.
meaning-no-skype = Nothing in this traffic ties this machine to Skype.
advice-no-skype = Nothing to do. If Skype was not running during the capture, capture again while it logs in.

story-heading = What was seen, in time order:
story-more-skype = … and { $count } more signs of Skype.
step-tom-request = sent a request that only TOM-Skype sends: { $what }
step-tom-agent = sent a request with the User-Agent of TOM's ContentFilter (also a common library's default): { $what }
step-tom-name-contact = contacted { $what }, a server of TOM's Skype service
step-tom-name-answer = a DNS answer named the address it talked to { $what }, a name of TOM's Skype service
step-tom-name-lookup = looked up { $what }, a name of TOM's Skype service, without contacting it
step-tom-server = talked to { $what }, a server in China that only TOM-Skype contacted in GreatFire's 2012 test
step-tom-visit = a web browser opened a page of TOM's Skype web site: { $what }
step-skype = used Skype's service: { $what }
step-skype-port = opened a connection to a port Skype's servers use: { $what }
step-skype-protocol = spoke Skype's own protocol ({ $what }) with { $server }
step-skype-china = sent Skype traffic to a server in China: { $what }
step-relayed = relayed { $what } for another machine (not counted)
step-visit = a web browser opened { $what } (a web page, not counted)
step-not-evidence = { $what }: not evidence (a known forged DNS answer)
note-unsolicited = named only by a DNS answer this machine never asked for: anyone can send one
note-received-only = this machine only received traffic from it: anyone can send that
note-out-of-years = seen in { $year }, outside the years the address was TOM's: addresses change hands
note-lookup = only looked up: any web page can cause a lookup
note-contact = a contact, not a request only TOM-Skype makes
sources-heading = Published sources:
local-time = ({ $time } local)
source = Source: { $source }
in-country = in { $country }

advisory-peer-in-china = It talked directly with a machine in China ({ $endpoint }). If that was a Skype contact using TOM-Skype, their side logged the chat.
advisory-tom-web-visit = A web browser on this machine opened TOM-Skype's web pages ({ $what }). That alone is not TOM-Skype running; if TOM-Skype was downloaded, check the installed programs.
role-dns-resolver = It answers DNS for { $count ->
    [one] 1 other machine
   *[other] { $count } other machines
}: what it looks up for them is not counted as its own.
role-http-proxy = It is a web proxy for { $count ->
    [one] 1 other machine
   *[other] { $count } other machines
}: what it fetches for them is not counted as its own.

rests-on = Based on { $packets ->
    [one] 1 packet
   *[other] { $packets } packets
} over { $duration }, from { $first } to { $last }.
rests-on-little = That is little traffic: a Skype login takes longer than 30 seconds and 50 packets.
rests-on-no-names = No names were seen (no DNS, TLS or web requests): this rests on addresses alone.
rests-on-inbound = Only traffic sent to this machine was captured: nothing in it shows what the machine itself did.
rests-on-outbound = Only traffic sent by this machine was captured: no answer to it.

quiet-machines = { $count ->
    [one] 1 other machine shows
   *[other] { $count } other machines show
} no sign of Skype.
quiet-list-hint = List them with --all-hosts.

dur-seconds = { $s } s
dur-minutes = { $m } min { $s } s
dur-hours = { $h } h { $m } min
dur-days = { $d ->
    [one] 1 day
   *[other] { $d } days
}

problems-heading = Problems reading the input:
# One problem: the file, what kind of problem ($what), the reader's own sentence ($detail,
# always English) and where ($at: problem-at-packet, problem-at-line for a Zeek log, or
# problem-at-offset, or nothing).
problem-line = { $path }: { $detail }{ $at }
problem-at-packet = {" "}(packet { $packet }, offset { $offset })
problem-at-line = {" "}(line { $line }, offset { $offset })
problem-at-offset = {" "}(offset { $offset })
problem-io = The file could not be opened or read.
problem-empty = The file is empty.
problem-not-a-capture = This is not a network capture (pcap or pcapng) or a Zeek log.
problem-unsupported-version = The capture is in a version of its format this tool does not know.
problem-truncated-header = The start of the file is cut short.
problem-truncated-record = The file ends in the middle of a packet (it may not have been saved completely).
problem-bad-record = A damaged part of the file was skipped.
problem-caplen-over-snaplen = A packet is longer than the file says packets can be (it was read anyway).
problem-unknown-interface = A packet names a network interface the file never described; it was skipped.
problem-gzip = The compressed data is damaged or incomplete.
problem-skipped-log = This kind of Zeek log is not needed and was not read.
memory-line = The traffic needed more memory than allowed (--max-memory): to stay within it, the details of machines with nothing Skype-related (whom they talked to, the site names they looked up) were set aside{ $flows ->
        [0] {""}
       *[other] , and { $flows } flows were ended before their time
    }. The verdicts do not depend on what was set aside.
memory-line-over = Even so, more memory than allowed was used.
inputs-line = Read { $inputs ->
    [one] 1 input
   *[other] { $inputs } inputs
}, { $packets } packets.
inputs-line-records = Read { $inputs ->
    [one] 1 input
   *[other] { $inputs } inputs
}, { $records } log records.
inputs-line-both = Read { $inputs } inputs, { $packets } packets and { $records } log records.
knowledge-line = Indicators: { $set } (sha256 { $sha }). Countries: { $geoip }.

## HTML only.
html-title = tomskype report
html-machines = Machines
html-machine = Machine
html-verdict = Verdict
html-confidence = Confidence
html-why = Why
html-map-caption = Countries this machine talked to. Red: China, where TOM-Skype's servers were.
html-map-credit = Map: Natural Earth (public domain) via world-atlas. Country names: Unicode CLDR.
html-countries = Countries: { $list }
html-quiet-heading = Machines with no sign of Skype

## tomskype live and tomskype interfaces: what they say on the terminal (stderr), and the
## listing of interfaces. $os is one of linux, macos, windows, other.
msg-error = tomskype: error: { $message }
msg-warning = tomskype: warning: { $message }

live-started = tomskype: capturing on { $iface }; Ctrl-C to stop and report
live-started-for = tomskype: capturing on { $iface } for { $duration }; Ctrl-C to stop and report
live-status = live { $iface } { $seconds }s · { $packets ->
    [one] 1 packet
   *[other] { $packets } packets
} · { $bytes } · { $hosts ->
    [one] 1 host
   *[other] { $hosts } hosts
} · { $signs ->
    [one] 1 Skype/TOM sign
   *[other] { $signs } Skype/TOM signs
} · so far: { $verdict }
live-verdict = { $label ->
    [tom-skype] tom-skype
    [regular-skype] regular-skype
    [inconclusive] inconclusive
   *[no-skype] no-skype
} ({ $host })
live-verdict-none = { "-" }
live-finished = tomskype: capture stopped after { $duration }: { $packets ->
    [one] 1 packet
   *[other] { $packets } packets
} ({ $bytes }) on { $iface }
live-dropped = live:{ $iface }: { $lost ->
    [one] 1 packet was
   *[other] { $lost } packets were
} dropped before tomskype could read them; the verdict rests on the { $packets } read

live-err-list = cannot list network interfaces: { $detail }
live-err-no-such-interface = no interface named { $name }; the interfaces are: { $available }
live-err-no-default = no interface is up, running, not loopback and with an address; name one with --interface (the interfaces are: { $available })
live-err-none-listed = none (is this user allowed to capture?)
live-list-separator = { ", " }
live-err-no-npcap = live capture on Windows needs Npcap, which is not installed (wpcap.dll not found): install it from https://npcap.com (tick "Install Npcap in WinPcap API-compatible Mode"), then run tomskype again; or capture with Wireshark and run `tomskype analyze` on the saved file
live-err-permission = no permission to capture on { $iface } ({ $detail }): { $os ->
    [linux] run tomskype as root (`sudo tomskype live`), or allow it once with `sudo setcap cap_net_raw,cap_net_admin+eip $(command -v tomskype)`
    [macos] run it as `sudo tomskype live`, or let your user capture without sudo by installing Wireshark's ChmodBPF ("Install ChmodBPF.pkg" in the Wireshark disk image), then log out and in again
    [windows] run tomskype as Administrator (right-click "Terminal", "Command Prompt" or "PowerShell" and choose "Run as administrator"): Npcap was installed for Administrators only; if the interface list is empty, reinstall Npcap from https://npcap.com
   *[other] run tomskype as root (`sudo tomskype live`), or give your user read access to the capture devices (/dev/bpf*)
}
live-err-open = cannot capture on { $iface }: { $detail }
live-err-read = capture on { $iface } stopped: { $detail }
live-err-link = interface { $iface } has link type { $type } ({ $name }), which tomskype cannot decode (it reads Ethernet, raw IP, Linux cooked and BSD loopback)
live-err-create = cannot create { $path }: { $reason }
live-err-write = cannot write { $path }: { $reason }
live-err-ctrlc = cannot catch Ctrl-C: { $reason }
live-err-not-built = { $os ->
    [linux] this tomskype was built without live capture; install the Debian package or build with `apt-get install libpcap-dev` and `cargo install --path . --features live` (see README, "Check your own machine"); or capture with Wireshark and run `tomskype analyze FILE`
    [windows] this tomskype.exe was built without live capture; download the release's tomskype.exe (see README, "Check your own machine"); or capture with Wireshark and run `tomskype analyze FILE`
    [macos] this tomskype was built without live capture; download a release binary, or build with `cargo install --path . --features live` (libpcap is part of macOS); or capture with Wireshark and run `tomskype analyze FILE`
   *[other] this tomskype was built without live capture; build it with libpcap's development files and `cargo install --path . --features live`; or capture with Wireshark and run `tomskype analyze FILE`
}

iface-flag-up = up
iface-flag-running = running
iface-flag-loopback = loopback
iface-flag-wireless = wireless
iface-flag-down = down
iface-flag-separator = { "," }
iface-none = no interfaces found (libpcap lists none: is this user allowed to capture?)
iface-default = { "*" } = default for `tomskype live`: { $iface }
iface-no-default = no default: no interface is up, running, not loopback and has an address; name one with --interface

## After the report (analyze and live): what went wrong with the inputs and the output.
# $what: the system's error in words (io-*), $reason: its English.
msg-report-unwritable = cannot write the report: { $reason }
msg-help-unwritable = cannot write the help: { $reason }
msg-html-written = tomskype: HTML report written to { $path }
msg-input-problems = { $input }: { $count } problem(s), analysed what could be read (first: { $first })
msg-nothing-read-no-input = nothing was read: no input was found (an empty folder?)
msg-nothing-read-no-packets = nothing was read: the inputs hold no packets or log records
msg-input-unreadable = { $input }: unreadable
progress-reading = reading
msg-note = tomskype: note: { $message }
msg-skipped-files = skipped { $count } file(s) in folders that are neither captures nor Zeek logs (first: { $first })

## --expect: a verdict that is not the one expected (exit code 1). Labels as the flag takes them.
msg-expectation-failed = tomskype: expectation failed: { $what }
expect-no-host = no host in the report to check, expected an overall verdict of { $expected }
expect-overall = overall verdict is { $got }, expected { $expected }
expect-host-missing = host { $host } is not in the report, expected { $expected }
expect-host = host { $host } is { $got }, expected { $expected }

## Why a command could not do its work (exit code 2), after "tomskype: error: ". In English the
## line is the technical one; a translation says what happened in the reader's words ($what:
## one of the *-why-* or io-* messages), then the English ($detail) as the technical detail.
err-command-line = the command line is not right; what is wrong, in English, and how to write it follow
err-lang = --lang { $value }: not a language of the reports (en, zh-CN, zh-TW)
# $address: what stands before the "=", $label: what stands after it (or the whole value).
err-expect-address = --expect { $value }: { $detail }
err-expect-label = --expect { $value }: { $detail }
err-input-timeout = --input-timeout { $value }: not a number of seconds ≥ 0
err-duration = --duration { $value }: not a number of seconds ≥ 0
err-indicators-shipped = the shipped indicator set is broken: { $detail }
err-indicators-file = refusing indicator file { $path }: { $detail }
indicators-why-line = Line { $line } is not written as docs/INDICATORS.md says, so none of the file was used.
err-geoip-shipped = the shipped GeoIP database is broken: { $detail }
err-geoip-file = refusing GeoIP database { $path }: { $detail }
# A database found at a standard location (/usr/share/GeoIP/...) when --geoip-db is not given.
err-geoip-found = no usable GeoIP database: { $detail }
geoip-why-not-mmdb = It is not a GeoIP database in MaxMind's format (.mmdb).
geoip-why-not-country = It holds no countries (it is a { $type } database); a country database is needed, such as GeoLite2-Country.
err-html = cannot write the HTML report to { $path }: { $detail }
# Standard output (lookup, indicators, export).
err-output = cannot write the output: { $detail }
err-generate = cannot write to { $path }: { $detail }
# What the system said, in words; $op is read or write.
io-not-found = { $op ->
    [write] The folder does not exist.
   *[read] The file does not exist.
}
io-permission = { $op ->
    [write] There is no permission to write there.
   *[read] There is no permission to read the file.
}
io-is-a-folder = It is a folder, not a file.
io-not-a-folder = Part of the path is a file, not a folder.
io-full = The disk is full.
io-read-only = It is on a disk that can only be read.
io-not-text = It is not a text file (UTF-8).
io-other = { $op ->
    [write] It could not be written.
   *[read] It could not be read.
}
