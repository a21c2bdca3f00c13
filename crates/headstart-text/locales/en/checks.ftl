# The diagnostic pages (?check=backends, ?check=messages), for teachers checking a device.

backend-check-heading = WebGPU versus CPU
backend-check-running = Comparing WebGPU with the CPU…
backend-check-skipped = Skipped: { $reason }.
backend-check-failed = WebGPU failed: { $detail }.
backend-check-compared = On { $adapter }: the photo's embedding differs by at most { $embedding }, class probabilities by at most { $probability }; same predicted classes: { $same }.
message-check-heading = Cost of one message to a worker
message-check = { $count } round trips: median { $median } ms, longest { $longest } ms.
