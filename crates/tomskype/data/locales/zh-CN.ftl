# tomskype：给人看的文字（报告的文本和 HTML，live 和 interfaces 在终端上显示的内容，以及命令失败的原因），简体中文。
# 每条消息都必须与 en.ftl 一一对应（有测试检查）。

n-machines = { $count } 台机器

## 先给出答案。
answer-tom = { $total } 台机器中有 { $count } 台运行了 TOM-Skype：{ $hosts }
answer-unclear = 没有机器可以确定运行了 TOM-Skype，但有 { $count } 台机器有一些迹象：{ $hosts }
answer-regular = 没有机器运行 TOM-Skype。运行正常版 Skype 的：{ $hosts }
answer-none = 没有机器运行 TOM-Skype：{ $total } 台机器都没有任何使用 Skype 的迹象。
answer-no-machines = 在这些流量中没有找到任何机器。
answer-nothing-read = 什么也没有读到：输入中没有任何数据包或日志记录，因此无法对任何机器下结论。
answer-also-unclear = 另有迹象不明的机器：{ $hosts }
answer-also-regular = 另有运行正常版 Skype 的机器：{ $hosts }
answer-more = { $hosts }，以及另外 { $more } 台（下文逐台说明）

## 一台机器。
label-tom-skype = TOM-Skype
label-regular-skype = 正常版 Skype
label-inconclusive = 不确定
label-no-skype = 没有 Skype
build-english = 英文版
build-chinese = 中文版
confidence-high = 把握较大
confidence-medium = 有一定把握
confidence-low = 把握不大

meaning-tom-skype = 这台机器运行了 TOM-Skype，即 TOM 在线在中国发行的 Skype 版本（2005–2013 年）。它会检查每一条聊天内容中的敏感词，并把命中的消息上传到位于中国的服务器，包括使用者本人和其联系人的消息。
advice-tom-skype = 建议：卸载 TOM-Skype，改用由开发商发布的即时通讯软件（例如微软的 Skype）。应当假定在这台机器上输入的聊天内容、以及与其联系人的聊天，可能已被读取并保存在中国。
meaning-regular-skype = 这台机器运行的是正常版 Skype，不是 TOM 的版本。
advice-regular-skype = 这台机器无需处理。如果您的某位联系人使用 TOM-Skype，您与他的聊天会在对方那一端被记录。
meaning-inconclusive = 有一些迹象，但太少或太间接，无法判断这台机器运行的是哪种 Skype。
advice-inconclusive = 建议：在这台机器启动 Skype、登录并发送一条消息时重新抓包（tomskype live），再看新的结论。
meaning-no-skype = 这些流量中没有任何迹象表明这台机器在使用 Skype。
advice-no-skype = 无需处理。如果抓包时 Skype 没有运行，请在它登录时重新抓包。

story-heading = 按时间顺序看到的情况：
story-more-skype = ……另有 { $count } 条使用 Skype 的迹象。
step-tom-request = 发出了只有 TOM-Skype 才会发出的请求：{ $what }
step-tom-agent = 发出了带有 TOM ContentFilter 的 User-Agent 的请求（这也是一个常见程序库的默认值）：{ $what }
step-tom-name-contact = 连接了 TOM Skype 服务的服务器 { $what }
step-tom-name-answer = 一个 DNS 应答把它通信过的地址称为 { $what }，这是 TOM Skype 服务的域名
step-tom-name-lookup = 查询了 TOM Skype 服务的域名 { $what }，但没有连接它
step-tom-server = 与 { $what } 通信；在 GreatFire 2012 年的测试中，只有 TOM-Skype 连接过这台位于中国的服务器
step-tom-visit = 网页浏览器打开了 TOM Skype 网站的页面：{ $what }
step-skype = 使用了 Skype 的服务：{ $what }
step-skype-port = 连接了 Skype 服务器使用的端口：{ $what }
step-skype-protocol = 与 { $server } 使用了 Skype 自己的协议（{ $what }）
step-skype-china = 向位于中国的服务器发送了 Skype 流量：{ $what }
step-relayed = 替另一台机器转发了 { $what }（不计入）
step-visit = 网页浏览器打开了 { $what }（是网页，不计入）
step-not-evidence = { $what }：不是证据（已知的伪造 DNS 应答）
note-unsolicited = 仅来自这台机器从未请求过的 DNS 应答：任何人都可以发送这种应答
note-received-only = 这台机器只收到过来自它的流量：任何人都可以发送这种流量
note-out-of-years = 出现在 { $year } 年，不在该地址属于 TOM 的年份内：地址会易主
note-lookup = 只是查询过：任何网页都可能引起一次查询
note-contact = 只是一次连接，不是只有 TOM-Skype 才会发出的请求
sources-heading = 公开出处：
local-time = （本地时间 { $time }）
source = 出处：{ $source }
in-country = 位于{ $country }

advisory-peer-in-china = 它与位于中国的一台机器（{ $endpoint }）直接通信。如果对方是使用 TOM-Skype 的 Skype 联系人，聊天内容会在对方那一端被记录。
advisory-tom-web-visit = 这台机器上的网页浏览器打开了 TOM-Skype 的网页（{ $what }）。仅凭这一点并不说明运行了 TOM-Skype；如果下载过 TOM-Skype，请检查已安装的程序。
role-dns-resolver = 它为另外 { $count } 台机器提供 DNS 解析：它替它们做的查询不算作它自己的。
role-http-proxy = 它是另外 { $count } 台机器的网页代理：它替它们获取的内容不算作它自己的。

rests-on = 依据：{ $first } 至 { $last }（共 { $duration }）的 { $packets } 个数据包。
rests-on-little = 流量很少：一次 Skype 登录通常超过 30 秒、50 个数据包。
rests-on-no-names = 没有看到任何名称（没有 DNS、TLS 或网页请求）：结论只依据 IP 地址。
rests-on-inbound = 只抓到了发往这台机器的流量：其中没有任何内容能说明这台机器自己做了什么。
rests-on-outbound = 只抓到了这台机器发出的流量：没有抓到对方的回应。

quiet-machines = 另有 { $count } 台机器没有任何使用 Skype 的迹象。
quiet-list-hint = 使用 --all-hosts 列出它们。

dur-seconds = { $s } 秒
dur-minutes = { $m } 分 { $s } 秒
dur-hours = { $h } 小时 { $m } 分
dur-days = { $d } 天

problems-heading = 读取输入时遇到的问题：
problem-line = { $path }：{ $what }{ $at }（技术细节：{ $detail }）
problem-at-packet = 位置：第 { $packet } 个数据包，偏移 { $offset }。
problem-at-line = 位置：第 { $line } 行，偏移 { $offset }。
problem-at-offset = 位置：偏移 { $offset }。
problem-io = 无法打开或读取这个文件。
problem-empty = 文件是空的。
problem-not-a-capture = 这不是网络抓包文件（pcap 或 pcapng），也不是 Zeek 日志。
problem-unsupported-version = 抓包文件的格式版本无法识别。
problem-truncated-header = 文件开头不完整。
problem-truncated-record = 文件在一个数据包中间断掉了（可能没有完整保存）。
problem-bad-record = 文件中有一处损坏，已跳过。
problem-caplen-over-snaplen = 有一个数据包比文件声明的最大长度还长（仍已读取）。
problem-unknown-interface = 有一个数据包指向文件中未说明的网络接口，已跳过。
problem-gzip = 压缩数据损坏或不完整。
problem-skipped-log = 用不到这种 Zeek 日志，未读取。
memory-line = 这些流量需要的内存超过了允许的上限（--max-memory）：为了不超出上限，舍弃了没有任何 Skype 迹象的机器的细节（与谁通信、查询过哪些网站名称）{ $flows ->
        [0] {""}
       *[other] ，并提前结束了 { $flows } 个连接
    }。判断结果不受影响。
memory-line-over = 即便如此，使用的内存仍超过了上限。
inputs-line = 读取了 { $inputs } 个输入，共 { $packets } 个数据包。
inputs-line-records = 读取了 { $inputs } 个输入，共 { $records } 条日志记录。
inputs-line-both = 读取了 { $inputs } 个输入，共 { $packets } 个数据包和 { $records } 条日志记录。
knowledge-line = 指标集：{ $set }（sha256 { $sha }）。国家数据库：{ $geoip }。

## 仅用于 HTML。
html-title = tomskype 报告
html-machines = 机器
html-machine = 机器
html-verdict = 结论
html-confidence = 把握
html-why = 依据
html-map-caption = 这台机器通信过的国家和地区。红色：中国，TOM-Skype 的服务器所在地。
html-map-credit = 地图：Natural Earth（公有领域），经由 world-atlas。国家名称：Unicode CLDR。
html-countries = 国家和地区：{ $list }
html-quiet-heading = 没有 Skype 迹象的机器

## tomskype live 和 tomskype interfaces：在终端（标准错误输出）上显示的文字，以及网络接口列表。
## $os 取值为 linux、macos、windows、other。
msg-error = tomskype：错误：{ $message }
msg-warning = tomskype：警告：{ $message }

live-started = tomskype：正在抓取 { $iface } 上的网络流量；按 Ctrl-C 停止并生成报告
live-started-for = tomskype：正在抓取 { $iface } 上的网络流量，持续 { $duration }；按 Ctrl-C 可提前停止并生成报告
live-status = 正在抓取 { $iface } · { $seconds } 秒 · { $packets } 个数据包 · { $bytes } · { $hosts } 台机器 · { $signs } 个 Skype/TOM 迹象 · 目前结论：{ $verdict }
live-verdict = { $label ->
    [tom-skype] TOM-Skype
    [regular-skype] 正常版 Skype
    [inconclusive] 不确定
   *[no-skype] 没有 Skype
}（{ $host }）
live-verdict-none = 暂无
live-finished = tomskype：已停止抓取，共 { $duration }：在 { $iface } 上抓到 { $packets } 个数据包（{ $bytes }）
live-dropped = live:{ $iface }：有 { $lost } 个数据包在 tomskype 读取之前就被系统丢弃了；结论只依据已读取的 { $packets } 个数据包

live-err-list = 无法列出网络接口：{ $detail }
live-err-no-such-interface = 找不到名为 { $name } 的网络接口；本机的网络接口有：{ $available }
live-err-no-default = 找不到可以默认使用的网络接口（需要已启用、已连接、不是本机回环并且有 IP 地址）；请用 --interface 指定一个（本机的网络接口有：{ $available }）
live-err-none-listed = 一个也没有（当前用户是否有权抓取网络流量？）
live-list-separator = 、
live-err-no-npcap = 在 Windows 上抓取网络流量需要 Npcap，但这台电脑还没有安装（找不到 wpcap.dll）：请从 https://npcap.com 下载并安装（安装时勾选“Install Npcap in WinPcap API-compatible Mode”），然后重新运行 tomskype；也可以用 Wireshark 抓包，保存后用 `tomskype analyze` 分析保存的文件
live-err-permission = 需要管理员权限才能抓取 { $iface } 上的网络流量（系统提示：{ $detail }）：{ $os ->
    [linux] 请以 root 身份运行 tomskype（`sudo tomskype live`），或者执行一次 `sudo setcap cap_net_raw,cap_net_admin+eip $(command -v tomskype)`，允许它抓取网络流量
    [macos] 请用 `sudo tomskype live` 运行；如果不想用 sudo，可以安装 Wireshark 附带的 ChmodBPF（在 Wireshark 的磁盘映像中打开“Install ChmodBPF.pkg”），然后注销并重新登录
    [windows] 请以管理员身份运行 tomskype（右键点击“终端”“命令提示符”或“Windows PowerShell”，选择“以管理员身份运行”）：Npcap 安装时设置为仅限管理员使用；如果网络接口列表是空的，请从 https://npcap.com 重新安装 Npcap
   *[other] 请以 root 身份运行 tomskype（`sudo tomskype live`），或者让当前用户可以读取抓包设备（/dev/bpf*）
}
live-err-open = 无法抓取 { $iface } 上的网络流量：{ $detail }
live-err-read = { $iface } 上的抓取中断了：{ $detail }
live-err-link = 网络接口 { $iface } 的链路类型是 { $type }（{ $name }），tomskype 无法解读（它能解读以太网、原始 IP、Linux cooked 和 BSD 回环）
live-err-create = 无法创建文件 { $path }：{ $what }（技术细节：{ $reason }）
live-err-write = 无法写入文件 { $path }：{ $what }（技术细节：{ $reason }）
live-err-ctrlc = 无法捕获 Ctrl-C：{ $reason }
live-err-not-built = { $os ->
    [linux] 这个 tomskype 编译时没有包含实时抓包功能；请安装 Debian 软件包，或者先执行 `apt-get install libpcap-dev`，再用 `cargo install --path . --features live` 编译（见 README 的“Check your own machine”一节）；也可以用 Wireshark 抓包，再运行 `tomskype analyze 文件名`
    [windows] 这个 tomskype.exe 编译时没有包含实时抓包功能；请下载正式发布的 tomskype.exe（见 README 的“Check your own machine”一节）；也可以用 Wireshark 抓包，再运行 `tomskype analyze 文件名`
    [macos] 这个 tomskype 编译时没有包含实时抓包功能；请下载正式发布的程序，或者用 `cargo install --path . --features live` 编译（macOS 自带 libpcap）；也可以用 Wireshark 抓包，再运行 `tomskype analyze 文件名`
   *[other] 这个 tomskype 编译时没有包含实时抓包功能；请安装 libpcap 的开发文件，再用 `cargo install --path . --features live` 编译；也可以用 Wireshark 抓包，再运行 `tomskype analyze 文件名`
}

iface-flag-up = 已启用
iface-flag-running = 已连接
iface-flag-loopback = 本机回环
iface-flag-wireless = 无线
iface-flag-down = 未启用
iface-flag-separator = 、
iface-none = 没有找到任何网络接口（libpcap 一个也没有列出：当前用户是否有权抓取网络流量？）
iface-default = { "*" } = `tomskype live` 默认使用：{ $iface }
iface-no-default = 没有默认接口：没有一个网络接口同时满足已启用、已连接、不是本机回环并且有 IP 地址；请用 --interface 指定一个

## 报告之后（analyze 和 live）：输入和输出出了什么问题。
msg-report-unwritable = 无法输出报告：{ $what }（技术细节：{ $reason }）
msg-help-unwritable = 无法输出帮助信息：{ $what }（技术细节：{ $reason }）
msg-html-written = tomskype：HTML 报告已保存到 { $path }
msg-input-problems = { $input }：读取时遇到 { $count } 个问题，已分析能读取的部分（第一个问题：{ $first }）
msg-nothing-read-no-input = 什么也没有读到：没有找到任何输入（文件夹是空的？）
msg-nothing-read-no-packets = 什么也没有读到：输入中没有任何数据包或日志记录
msg-input-unreadable = { $input }：无法读取
progress-reading = 正在读取
msg-note = tomskype：提示：{ $message }
msg-skipped-files = 文件夹里有 { $count } 个文件既不是抓包文件，也不是 Zeek 日志，已跳过（第一个：{ $first }）

## --expect：结论与预期不符（退出码 1）。结论沿用参数里的写法。
msg-expectation-failed = tomskype：与预期不符：{ $what }
expect-no-host = 报告中没有任何主机可以检查，预期的总体结论是 { $expected }
expect-overall = 总体结论是 { $got }，预期是 { $expected }
expect-host-missing = 报告中没有主机 { $host }，预期它的结论是 { $expected }
expect-host = 主机 { $host } 的结论是 { $got }，预期是 { $expected }

## 命令无法完成的原因（退出码 2），显示在“tomskype：错误：”之后：先用读者的话说明发生了什么
## （$what），再附上英文原文（$detail）作为技术细节。
err-command-line = 命令行写得不对，请检查拼写；下面是英文的说明和正确的写法
err-lang = --lang { $value }：不支持这种语言（可以选择 en、zh-CN 或 zh-TW）
err-expect-address = --expect { $value }：等号前面的“{ $address }”不是 IP 地址；应写成“地址=结论”，例如 192.168.1.5=tom-skype
err-expect-label = --expect { $value }：“{ $label }”不是可用的结论；可以写 tom-skype、regular-skype、no-skype 或 inconclusive
err-input-timeout = --input-timeout { $value }：这里需要一个大于或等于 0 的秒数（0 表示一直等待）
err-duration = --duration { $value }：这里需要一个大于或等于 0 的秒数
err-indicators-shipped = tomskype 自带的指标集已损坏，请重新安装 tomskype（技术细节：{ $detail }）
err-indicators-file = 无法使用指标文件 { $path }：{ $what }（技术细节：{ $detail }）
indicators-why-line = 第 { $line } 行的格式不对（格式见 docs/INDICATORS.md），所以整个文件都没有使用。
err-geoip-shipped = tomskype 自带的 GeoIP 数据库已损坏，请重新安装 tomskype（技术细节：{ $detail }）
err-geoip-file = 无法使用 GeoIP 数据库文件 { $path }：{ $what }（技术细节：{ $detail }）
err-geoip-found = 系统的标准位置上有 GeoIP 数据库文件 { $path }，但无法使用：{ $what }请修复或删除这个文件，或者用 --geoip-db embedded 改用 tomskype 自带的数据库。（技术细节：{ $detail }）
geoip-why-not-mmdb = 这不是 MaxMind 格式（.mmdb）的 GeoIP 数据库。
geoip-why-not-country = 这个数据库里没有国家信息（它是 { $type } 数据库），需要的是国家数据库，例如 GeoLite2-Country。
err-html = 无法把 HTML 报告保存到 { $path }：{ $what }（技术细节：{ $detail }）
err-output = 无法输出结果：{ $what }（技术细节：{ $detail }）
err-generate = 无法写入 { $path }：{ $what }（技术细节：{ $detail }）
io-not-found = { $op ->
    [write] 要保存到的文件夹不存在。
   *[read] 找不到这个文件。
}
io-permission = { $op ->
    [write] 没有权限写入这个位置。
   *[read] 没有权限读取这个文件。
}
io-is-a-folder = 这是一个文件夹，不是文件。
io-not-a-folder = 路径中有一部分是文件，而不是文件夹。
io-full = 磁盘已满。
io-read-only = 这个位置是只读的，无法写入。
io-not-text = 这不是文本文件（需要 UTF-8 编码）。
io-other = { $op ->
    [write] 无法写入。
   *[read] 无法读取。
}
