# tomskype：給人看的文字（報告的文字和 HTML，live 和 interfaces 在終端機上顯示的內容，以及命令失敗的原因），繁體中文。
# 每則訊息都必須與 en.ftl 一一對應（有測試檢查）。

n-machines = { $count } 台機器

## 先給出答案。
answer-tom = { $total } 台機器中有 { $count } 台執行了 TOM-Skype：{ $hosts }
answer-unclear = 沒有機器可以確定執行了 TOM-Skype，但有 { $count } 台機器有一些跡象：{ $hosts }
answer-regular = 沒有機器執行 TOM-Skype。執行正常版 Skype 的：{ $hosts }
answer-none = 沒有機器執行 TOM-Skype：{ $total } 台機器都沒有任何使用 Skype 的跡象。
answer-no-machines = 在這些流量中沒有找到任何機器。
answer-nothing-read = 什麼也沒有讀到：輸入中沒有任何封包或日誌記錄，因此無法對任何機器下結論。
answer-also-unclear = 另有跡象不明的機器：{ $hosts }
answer-also-regular = 另有執行正常版 Skype 的機器：{ $hosts }
answer-more = { $hosts }，以及另外 { $more } 台（下文逐台說明）

## 一台機器。
label-tom-skype = TOM-Skype
label-regular-skype = 正常版 Skype
label-inconclusive = 不確定
label-no-skype = 沒有 Skype
build-english = 英文版
build-chinese = 中文版
confidence-high = 把握較大
confidence-medium = 有一定把握
confidence-low = 把握不大

meaning-tom-skype = 這台機器執行了 TOM-Skype，即 TOM 線上在中國發行的 Skype 版本（2005–2013 年）。它會檢查每一則聊天內容中的敏感詞，並把命中的訊息上傳到位於中國的伺服器，包括使用者本人和其聯絡人的訊息。
advice-tom-skype = 建議：解除安裝 TOM-Skype，改用由開發商發布的即時通訊軟體（例如微軟的 Skype）。應當假定在這台機器上輸入的聊天內容、以及與其聯絡人的聊天，可能已被讀取並保存在中國。
meaning-regular-skype = 這台機器執行的是正常版 Skype，不是 TOM 的版本。
advice-regular-skype = 這台機器無需處理。如果您的某位聯絡人使用 TOM-Skype，您與他的聊天會在對方那一端被記錄。
meaning-inconclusive = 有一些跡象，但太少或太間接，無法判斷這台機器執行的是哪種 Skype。
advice-inconclusive = 建議：在這台機器啟動 Skype、登入並傳送一則訊息時重新擷取封包（tomskype live），再看新的結論。
meaning-no-skype = 這些流量中沒有任何跡象顯示這台機器在使用 Skype。
advice-no-skype = 無需處理。如果擷取封包時 Skype 沒有執行，請在它登入時重新擷取。

story-heading = 按時間順序看到的情況：
story-more-skype = ……另有 { $count } 則使用 Skype 的跡象。
step-tom-request = 發出了只有 TOM-Skype 才會發出的請求：{ $what }
step-tom-agent = 發出了帶有 TOM ContentFilter 的 User-Agent 的請求（這也是一個常見程式庫的預設值）：{ $what }
step-tom-name-contact = 連線了 TOM Skype 服務的伺服器 { $what }
step-tom-name-answer = 一個 DNS 回應把它通訊過的位址稱為 { $what }，這是 TOM Skype 服務的網域名稱
step-tom-name-lookup = 查詢了 TOM Skype 服務的網域名稱 { $what }，但沒有連線
step-tom-server = 與 { $what } 通訊；在 GreatFire 2012 年的測試中，只有 TOM-Skype 連線過這台位於中國的伺服器
step-tom-visit = 網頁瀏覽器開啟了 TOM Skype 網站的頁面：{ $what }
step-skype = 使用了 Skype 的服務：{ $what }
step-skype-port = 連線了 Skype 伺服器使用的連接埠：{ $what }
step-skype-protocol = 與 { $server } 使用了 Skype 自己的協定（{ $what }）
step-skype-china = 向位於中國的伺服器傳送了 Skype 流量：{ $what }
step-relayed = 替另一台機器轉送了 { $what }（不計入）
step-visit = 網頁瀏覽器開啟了 { $what }（是網頁，不計入）
step-not-evidence = { $what }：不是證據（已知的偽造 DNS 回應）
note-unsolicited = 僅來自這台機器從未請求過的 DNS 回應：任何人都可以傳送這種回應
note-received-only = 這台機器只收到過來自它的流量：任何人都可以傳送這種流量
note-out-of-years = 出現在 { $year } 年，不在該位址屬於 TOM 的年份內：位址會易主
note-lookup = 只是查詢過：任何網頁都可能引起一次查詢
note-contact = 只是一次連線，不是只有 TOM-Skype 才會發出的請求
sources-heading = 公開出處：
local-time = （本地時間 { $time }）
source = 出處：{ $source }
in-country = 位於{ $country }

advisory-peer-in-china = 它與位於中國的一台機器（{ $endpoint }）直接通訊。如果對方是使用 TOM-Skype 的 Skype 聯絡人，聊天內容會在對方那一端被記錄。
advisory-tom-web-visit = 這台機器上的網頁瀏覽器開啟了 TOM-Skype 的網頁（{ $what }）。僅憑這一點並不表示執行了 TOM-Skype；如果下載過 TOM-Skype，請檢查已安裝的程式。
role-dns-resolver = 它為另外 { $count } 台機器提供 DNS 解析：它替它們做的查詢不算作它自己的。
role-http-proxy = 它是另外 { $count } 台機器的網頁代理：它替它們取得的內容不算作它自己的。

rests-on = 依據：{ $first } 至 { $last }（共 { $duration }）的 { $packets } 個封包。
rests-on-little = 流量很少：一次 Skype 登入通常超過 30 秒、50 個封包。
rests-on-no-names = 沒有看到任何名稱（沒有 DNS、TLS 或網頁請求）：結論只依據 IP 位址。
rests-on-inbound = 只擷取到傳往這台機器的流量：其中沒有任何內容能說明這台機器自己做了什麼。
rests-on-outbound = 只擷取到這台機器傳出的流量：沒有擷取到對方的回應。

quiet-machines = 另有 { $count } 台機器沒有任何使用 Skype 的跡象。
quiet-list-hint = 使用 --all-hosts 列出它們。

dur-seconds = { $s } 秒
dur-minutes = { $m } 分 { $s } 秒
dur-hours = { $h } 小時 { $m } 分
dur-days = { $d } 天

problems-heading = 讀取輸入時遇到的問題：
problem-line = { $path }：{ $what }{ $at }（技術細節：{ $detail }）
problem-at-packet = 位置：第 { $packet } 個封包，偏移 { $offset }。
problem-at-line = 位置：第 { $line } 行，偏移 { $offset }。
problem-at-offset = 位置：偏移 { $offset }。
problem-io = 無法開啟或讀取這個檔案。
problem-empty = 檔案是空的。
problem-not-a-capture = 這不是網路封包擷取檔（pcap 或 pcapng），也不是 Zeek 紀錄檔。
problem-unsupported-version = 無法辨識擷取檔的格式版本。
problem-truncated-header = 檔案開頭不完整。
problem-truncated-record = 檔案在一個封包中間中斷了（可能沒有完整儲存）。
problem-bad-record = 檔案中有一處損毀，已略過。
problem-caplen-over-snaplen = 有一個封包比檔案宣告的最大長度還長（仍已讀取）。
problem-unknown-interface = 有一個封包指向檔案中未說明的網路介面，已略過。
problem-gzip = 壓縮資料損毀或不完整。
problem-skipped-log = 用不到這種 Zeek 紀錄檔，未讀取。
memory-line = 這些流量需要的記憶體超過了允許的上限（--max-memory）：為了不超出上限，捨棄了沒有任何 Skype 跡象的機器的細節（與誰通訊、查詢過哪些網站名稱）{ $flows ->
        [0] {""}
       *[other] ，並提前結束了 { $flows } 個連線
    }。判斷結果不受影響。
memory-line-over = 即便如此，使用的記憶體仍超過了上限。
inputs-line = 讀取了 { $inputs } 個輸入，共 { $packets } 個封包。
inputs-line-records = 讀取了 { $inputs } 個輸入，共 { $records } 筆日誌記錄。
inputs-line-both = 讀取了 { $inputs } 個輸入，共 { $packets } 個封包和 { $records } 筆日誌記錄。
knowledge-line = 指標集：{ $set }（sha256 { $sha }）。國家資料庫：{ $geoip }。

## 僅用於 HTML。
html-title = tomskype 報告
html-machines = 機器
html-machine = 機器
html-verdict = 結論
html-confidence = 把握
html-why = 依據
html-map-caption = 這台機器通訊過的國家和地區。紅色：中國，TOM-Skype 的伺服器所在地。
html-map-credit = 地圖：Natural Earth（公有領域），經由 world-atlas。國家名稱：Unicode CLDR。
html-countries = 國家和地區：{ $list }
html-quiet-heading = 沒有 Skype 跡象的機器

## tomskype live 和 tomskype interfaces：在終端機（標準錯誤輸出）上顯示的文字，以及網路介面清單。
## $os 的值為 linux、macos、windows、other。
msg-error = tomskype：錯誤：{ $message }
msg-warning = tomskype：警告：{ $message }

live-started = tomskype：正在擷取 { $iface } 上的網路流量；按 Ctrl-C 停止並產生報告
live-started-for = tomskype：正在擷取 { $iface } 上的網路流量，持續 { $duration }；按 Ctrl-C 可提前停止並產生報告
live-status = 正在擷取 { $iface } · { $seconds } 秒 · { $packets } 個封包 · { $bytes } · { $hosts } 台機器 · { $signs } 個 Skype/TOM 跡象 · 目前結論：{ $verdict }
live-verdict = { $label ->
    [tom-skype] TOM-Skype
    [regular-skype] 正常版 Skype
    [inconclusive] 不確定
   *[no-skype] 沒有 Skype
}（{ $host }）
live-verdict-none = 暫無
live-finished = tomskype：已停止擷取，共 { $duration }：在 { $iface } 上擷取到 { $packets } 個封包（{ $bytes }）
live-dropped = live:{ $iface }：有 { $lost } 個封包在 tomskype 讀取之前就被系統丟棄了；結論只依據已讀取的 { $packets } 個封包

live-err-list = 無法列出網路介面：{ $detail }
live-err-no-such-interface = 找不到名為 { $name } 的網路介面；本機的網路介面有：{ $available }
live-err-no-default = 找不到可以預設使用的網路介面（需要已啟用、已連線、不是本機回送，而且有 IP 位址）；請用 --interface 指定一個（本機的網路介面有：{ $available }）
live-err-none-listed = 一個也沒有（目前的使用者是否有權擷取網路流量？）
live-list-separator = 、
live-err-no-npcap = 在 Windows 上擷取網路流量需要 Npcap，但這台電腦還沒有安裝（找不到 wpcap.dll）：請從 https://npcap.com 下載並安裝（安裝時勾選「Install Npcap in WinPcap API-compatible Mode」），然後重新執行 tomskype；也可以用 Wireshark 擷取封包，儲存後用 `tomskype analyze` 分析儲存的檔案
live-err-permission = 需要系統管理員權限才能擷取 { $iface } 上的網路流量（系統訊息：{ $detail }）：{ $os ->
    [linux] 請以 root 身分執行 tomskype（`sudo tomskype live`），或者執行一次 `sudo setcap cap_net_raw,cap_net_admin+eip $(command -v tomskype)`，允許它擷取網路流量
    [macos] 請用 `sudo tomskype live` 執行；如果不想用 sudo，可以安裝 Wireshark 附帶的 ChmodBPF（在 Wireshark 的磁碟映像檔中開啟「Install ChmodBPF.pkg」），然後登出再重新登入
    [windows] 請以系統管理員身分執行 tomskype（在「終端機」、「命令提示字元」或「Windows PowerShell」上按右鍵，選擇「以系統管理員身分執行」）：Npcap 安裝時設定為僅限系統管理員使用；如果網路介面清單是空的，請從 https://npcap.com 重新安裝 Npcap
   *[other] 請以 root 身分執行 tomskype（`sudo tomskype live`），或者讓目前的使用者可以讀取擷取裝置（/dev/bpf*）
}
live-err-open = 無法擷取 { $iface } 上的網路流量：{ $detail }
live-err-read = { $iface } 上的擷取中斷了：{ $detail }
live-err-link = 網路介面 { $iface } 的鏈路類型是 { $type }（{ $name }），tomskype 無法解讀（它能解讀乙太網路、原始 IP、Linux cooked 和 BSD 回送）
live-err-create = 無法建立檔案 { $path }：{ $what }（技術細節：{ $reason }）
live-err-write = 無法寫入檔案 { $path }：{ $what }（技術細節：{ $reason }）
live-err-ctrlc = 無法攔截 Ctrl-C：{ $reason }
live-err-not-built = { $os ->
    [linux] 這個 tomskype 編譯時沒有包含即時擷取功能；請安裝 Debian 套件，或者先執行 `apt-get install libpcap-dev`，再用 `cargo install --path . --features live` 編譯（見 README 的「Check your own machine」一節）；也可以用 Wireshark 擷取封包，再執行 `tomskype analyze 檔案名稱`
    [windows] 這個 tomskype.exe 編譯時沒有包含即時擷取功能；請下載正式發布的 tomskype.exe（見 README 的「Check your own machine」一節）；也可以用 Wireshark 擷取封包，再執行 `tomskype analyze 檔案名稱`
    [macos] 這個 tomskype 編譯時沒有包含即時擷取功能；請下載正式發布的程式，或者用 `cargo install --path . --features live` 編譯（macOS 內建 libpcap）；也可以用 Wireshark 擷取封包，再執行 `tomskype analyze 檔案名稱`
   *[other] 這個 tomskype 編譯時沒有包含即時擷取功能；請安裝 libpcap 的開發檔案，再用 `cargo install --path . --features live` 編譯；也可以用 Wireshark 擷取封包，再執行 `tomskype analyze 檔案名稱`
}

iface-flag-up = 已啟用
iface-flag-running = 已連線
iface-flag-loopback = 本機回送
iface-flag-wireless = 無線
iface-flag-down = 未啟用
iface-flag-separator = 、
iface-none = 沒有找到任何網路介面（libpcap 一個也沒有列出：目前的使用者是否有權擷取網路流量？）
iface-default = { "*" } = `tomskype live` 預設使用：{ $iface }
iface-no-default = 沒有預設介面：沒有一個網路介面同時是已啟用、已連線、不是本機回送而且有 IP 位址；請用 --interface 指定一個

## 報告之後（analyze 和 live）：輸入和輸出出了什麼問題。
msg-report-unwritable = 無法輸出報告：{ $what }（技術細節：{ $reason }）
msg-help-unwritable = 無法輸出說明：{ $what }（技術細節：{ $reason }）
msg-html-written = tomskype：HTML 報告已儲存到 { $path }
msg-input-problems = { $input }：讀取時遇到 { $count } 個問題，已分析能讀取的部分（第一個問題：{ $first }）
msg-nothing-read-no-input = 什麼也沒有讀到：沒有找到任何輸入（資料夾是空的？）
msg-nothing-read-no-packets = 什麼也沒有讀到：輸入中沒有任何封包或日誌記錄
msg-input-unreadable = { $input }：無法讀取
progress-reading = 正在讀取
msg-note = tomskype：提示：{ $message }
msg-skipped-files = 資料夾裡有 { $count } 個檔案既不是封包擷取檔，也不是 Zeek 紀錄檔，已略過（第一個：{ $first }）

## --expect：結論與預期不符（結束代碼 1）。結論沿用參數裡的寫法。
msg-expectation-failed = tomskype：與預期不符：{ $what }
expect-no-host = 報告中沒有任何主機可以檢查，預期的整體結論是 { $expected }
expect-overall = 整體結論是 { $got }，預期是 { $expected }
expect-host-missing = 報告中沒有主機 { $host }，預期它的結論是 { $expected }
expect-host = 主機 { $host } 的結論是 { $got }，預期是 { $expected }

## 命令無法完成的原因（結束代碼 2），顯示在「tomskype：錯誤：」之後：先用讀者的話說明發生了什麼
## （$what），再附上英文原文（$detail）作為技術細節。
err-command-line = 命令列寫得不對，請檢查拼寫；下面是英文的說明和正確的寫法
err-lang = --lang { $value }：不支援這種語言（可以選擇 en、zh-CN 或 zh-TW）
err-expect-address = --expect { $value }：等號前面的「{ $address }」不是 IP 位址；應寫成「位址=結論」，例如 192.168.1.5=tom-skype
err-expect-label = --expect { $value }：「{ $label }」不是可用的結論；可以寫 tom-skype、regular-skype、no-skype 或 inconclusive
err-input-timeout = --input-timeout { $value }：這裡需要一個大於或等於 0 的秒數（0 表示一直等待）
err-duration = --duration { $value }：這裡需要一個大於或等於 0 的秒數
err-indicators-shipped = tomskype 內建的指標集已損毀，請重新安裝 tomskype（技術細節：{ $detail }）
err-indicators-file = 無法使用指標檔案 { $path }：{ $what }（技術細節：{ $detail }）
indicators-why-line = 第 { $line } 行的格式不正確（格式請見 docs/INDICATORS.md），因此整個檔案都沒有使用。
err-geoip-shipped = tomskype 內建的 GeoIP 資料庫已損毀，請重新安裝 tomskype（技術細節：{ $detail }）
err-geoip-file = 無法使用 GeoIP 資料庫檔案 { $path }：{ $what }（技術細節：{ $detail }）
err-geoip-found = 系統的標準位置上有 GeoIP 資料庫檔案 { $path }，但無法使用：{ $what }請修復或刪除這個檔案，或者用 --geoip-db embedded 改用 tomskype 內建的資料庫。（技術細節：{ $detail }）
geoip-why-not-mmdb = 這不是 MaxMind 格式（.mmdb）的 GeoIP 資料庫。
geoip-why-not-country = 這個資料庫裡沒有國家資訊（它是 { $type } 資料庫），需要的是國家資料庫，例如 GeoLite2-Country。
err-html = 無法將 HTML 報告儲存到 { $path }：{ $what }（技術細節：{ $detail }）
err-output = 無法輸出結果：{ $what }（技術細節：{ $detail }）
err-generate = 無法寫入 { $path }：{ $what }（技術細節：{ $detail }）
io-not-found = { $op ->
    [write] 要儲存到的資料夾不存在。
   *[read] 找不到這個檔案。
}
io-permission = { $op ->
    [write] 沒有權限寫入這個位置。
   *[read] 沒有權限讀取這個檔案。
}
io-is-a-folder = 這是一個資料夾，不是檔案。
io-not-a-folder = 路徑中有一部分是檔案，而不是資料夾。
io-full = 磁碟已滿。
io-read-only = 這個位置是唯讀的，無法寫入。
io-not-text = 這不是文字檔（需要 UTF-8 編碼）。
io-other = { $op ->
    [write] 無法寫入。
   *[read] 無法讀取。
}
