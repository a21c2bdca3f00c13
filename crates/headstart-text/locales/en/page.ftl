# The page around the steps: its title, the tagline, the footer and the panic banner.

page-title = Headstart — transfer learning in your browser
app-name = Headstart
tagline = Teach a pretrained network new classes from a few photos. Everything runs on this device; no photo leaves it.
footer = The backbone is EfficientNet-Lite0, pretrained on ImageNet; the ways to train above decide what learns from your photos. The model runs in background workers, so the page stays responsive.
fatal-error = Headstart stopped because of an internal error. Nothing was sent anywhere. Reload the page: your work saved on this device comes back.
