# Numbers shown on their own, formatted for the language (grouping, decimals, percent sign).

number = { $value }
percent = { $share }
no-value = –
size-mb = { $mb } MB
size-unknown = ?
duration-ms = { $ms } ms
duration-s = { $seconds } s
