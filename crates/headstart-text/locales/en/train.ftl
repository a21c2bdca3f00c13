# Step 2: training the model in use, and what its run says.

train-heading = 2. Train
train-way = Way to train
train = Train
stop = Stop
epochs = Epochs
epochs-help = How many times training goes through all the photos.
train-ready = Ready to train.
train-preparing-views = Making augmented views of the photos: { $done } of { $total }…
train-preparing-inputs = Making wrongly preprocessed inputs of the photos: { $done } of { $total }…
train-stopping = Stopping after epoch { $epoch }…
train-epoch = Epoch { $epoch } of { $epochs }: loss { $loss }, training accuracy { $accuracy }
train-starting = Starting { $epochs ->
    [one] { $epochs } epoch
   *[other] { $epochs } epochs
}…
train-done-no-training = { $way }: made from { $train ->
    [one] { $train } photo
   *[other] { $train } photos
} ({ $held }) in one look, no training: { $result }.
train-done = { $way }: { $how }, on { $train ->
    [one] { $train } photo
   *[other] { $train } photos
}{ $views ->
    [0] {""}
    [one] {" "}and { $views } augmented view
   *[other] {" "}and { $views } augmented views
} ({ $held }): training accuracy { $accuracy }, { $result }.
# How the photos of a run validated it: some held back, or all by turns (cross-validation).
train-held-out = { $validation ->
    [0] none held back for validation
   *[other] { $validation } held back for validation
}
train-held-by-folds = each took a turn at validation, in { $folds } rounds
train-folds-why = Few photos, so none were set aside: each one took a turn at checking a model trained on the others ({ $folds } rounds). The figure is their average ± how much they differed. The model in use then learned from all { $train } photos.
train-how-stopped = Stopped after epoch { $epoch } of { $epochs }; kept the model as it was
train-how-restored = Done after { $epochs ->
    [one] { $epochs } epoch
   *[other] { $epochs } epochs
}; validation loss was lowest at epoch { $best }, so the model keeps that epoch's weights
train-how-done = Done after { $epochs ->
    [one] { $epochs } epoch
   *[other] { $epochs } epochs
}
train-result-no-validation = no photo left to check it on, so its accuracy cannot be measured yet: add photos to each class
train-result-validation = validation accuracy { $accuracy }
train-result-validation-loss = validation accuracy { $accuracy } (loss { $loss })
train-result-validation-folds = validation accuracy { $accuracy } ± { $spread }
train-result-validation-folds-loss = validation accuracy { $accuracy } ± { $spread } (loss { $loss })
train-done-unknown = Done.
train-discarded-kept = Stopped before the first epoch ended: nothing was kept. Model { $version } is still in use.
train-discarded = Stopped before the first epoch ended: nothing was kept.
train-failed = Training stopped: { $reason }. Your photos are kept; try again.
model-in-use = In use: model { $version } ({ $classes }), { $way }, { $params ->
    [one] { $params } number
   *[other] { $params } numbers
} trained
# Between the class names of the model in use: "bird, fruit".
class-list-separator = ,{" "}
export-model-title = Save the model in use as a file (nothing is uploaded)
export-model = Export model
import-model = Import a model file
classes-changed = Your classes changed since training: train again to include the changes.
