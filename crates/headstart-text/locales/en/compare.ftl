# Step 4: the comparison of ways to train, and the final test.

compare-heading = 4. Compare ways to train
compare-intro = The same photos and split, six ways: the class average of the pretrained features (nearest centroid), the 5 most similar training photos voting (nearest neighbours), a new head on top of the frozen network, a new head trained together with the network's last blocks (fine-tuning), small LoRA corrections to those blocks while they stay frozen, and the same network learning from your photos alone (from scratch, at half resolution so that it finishes in a few minutes). Which will do best on photos it never saw? Predict first, then run.
unfreeze-blocks = Blocks to fine-tune
unfreeze-blocks-help = How many of the network's last blocks (of { $blocks }) learn too. Their BatchNorm statistics stay as pretrained: a few photos are too few to re-estimate them.
backbone-learning-rate = Their learning rate
backbone-learning-rate-help = Pretrained layers learn with smaller steps than the new head, so they keep what they know.
lora-rank = LoRA rank
lora-rank-help = LoRA keeps those blocks frozen and learns a small correction beside each 1x1 layer: rank r adds r numbers per channel in and out (1 to 64).
prediction-places = Your prediction, best first
prediction-place = { $place }.
prediction-place-label = Place { $place }
prediction-choose = choose…
compare-run = Compare
compare-run-title = Train every way on the same split
compare-predict-first = Choose your prediction first
compare-way = Way
compare-params = Numbers learned
compare-time = Training time
compare-validation = Validation
compare-test = Final test
compare-epoch = epoch { $epoch } of { $epochs }…
compare-training = training…
compare-stopped = stopped
compare-explained = Nearest centroid and nearest neighbours learn nothing: they keep the training photos' features (or their class averages) and compare. The head learns 1,281 numbers per class; fine-tuning also changes the last blocks; LoRA learns only small corrections beside them (compare the counts); from scratch, every number of the network is learned from these photos alone. Their learning curves:
compare-stale = Photos, classes or settings changed since this comparison ran: compare again for results that match them.
ranking-predicted = You predicted: { $ranking }.
ranking-measured = {" "}Measured on the test photos: { $ranking }.
ranking-press-final-test = {" "}Press Final test below to measure every way on the test photos.
ranking-separator = {" "}>{" "}
final-test = Final test
final-test-title = Measure the model once on the photos kept aside
final-test-help = Use it once, at the end: the test photos were never used while training or choosing settings.
final-testing = Testing…
final-test-result = Final test of model { $version }: { $correct } of { $total ->
    [one] { $total } test photo
   *[other] { $total } test photos
} right ({ $accuracy }).
final-test-stale = {" "}Photos, classes, settings or the model changed since: this result is out of date.
final-test-reused = {" "}The test photos have now been used { $times } times: choosing by them makes this number too hopeful.
