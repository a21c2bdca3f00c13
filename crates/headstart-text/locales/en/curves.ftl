# The learning curves.

curves-loss = Loss (lower is better)
curves-accuracy = Accuracy
curves-training = training photos
curves-validation = validation photos (held back, never learned from)
curves-validation-folds = validation, mean of the rounds (band: their spread)
curves-kept = epoch { $epoch }: lowest validation loss, kept
curves-epoch = epoch
curves-ways-validation = On the validation photos (held back, never learned from).
