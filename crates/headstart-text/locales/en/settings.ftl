# Settings: every number and switch of a run, with one line of help each, and augmentation.

settings = Settings
optimizer = Optimizer
optimizer-adam = Adam
optimizer-sgd = SGD with momentum
optimizer-help = Adam adapts the step for every weight; SGD takes plain steps and usually needs a larger learning rate (try 0.05).
learning-rate = Learning rate
learning-rate-help = How big each step is. Too big jumps around; too small learns slowly.
momentum = Momentum
momentum-help = How much of the last step SGD keeps going in (0 to 0.99).
batch-size = Batch size
batch-size-help = Photos per step. Smaller batches give noisier steps.
dropout = Dropout
dropout-help = Share of the 1280 features hidden at random in each step, so the head cannot rely on a few (0 to 0.9).
weight-decay = Weight decay
weight-decay-help = Pulls every weight a little towards zero each step: a simpler model that may overfit less.
label-smoothing = Label smoothing
label-smoothing-help = Trains towards e.g. 90% sure instead of 100%, so the model is less overconfident (0 to 0.5).
balance-classes = Balance classes
balance-classes-help = Every class counts the same in training, even one with many more photos than the others.
patience = Early stopping
patience-help = Stop when the validation loss has not improved for this many epochs, and keep the best epoch's weights (0 = off).
validation-share = Validation share
validation-share-help = Share of each class held back to check the model on photos it never learned from, while it trains (0 to 0.5).
test-share = Test share
test-share-help = Share of each class kept aside for the final test: training never sees them (0 to 0.5).
seed = Seed
seed-help = Decides the random split, start and shuffling: the same seed and photos train the same model.
reset-settings = Reset to defaults
augmentation = Augmentation
augmentation-help = Each training photo also trains as a few changed copies (views), so the model learns what stays the same. Validation photos are never changed.
augment-crop = Random crop
augment-crop-help = A random part of the photo, stretched back to full size.
augment-flip = Flip
augment-flip-help = Mirrored left to right, in half of the views.
augment-color = Colour jitter
augment-color-help = Brightness, contrast and saturation changed a little.
augment-rotation = Rotation
augment-rotation-help = Turned by up to 15 degrees.
views-per-photo = Views per photo
views-per-photo-help = Changed copies made of each training photo; each is embedded once, then reused.
augment-preview-off = Turn an augmentation on to see views of a photo (tap a photo to choose which).
augment-preview-making = Making views…
augment-preview-views = { $views ->
    [one] { $views } view
   *[other] { $views } views
} of { $file_name }, as training makes them:
augment-preview-the-photo = the photo
augment-preview-no-augmentation = Augmentation is off: every view is the photo itself.
augment-view = View { $number }
augment-more = Show { $views ->
    [one] { $views } other view
   *[other] { $views } other views
}
