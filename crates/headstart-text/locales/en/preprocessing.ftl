# What the model sees of a photo, and the wrong-preprocessing experiment.

seen-heading = What the model sees
seen-photo = { $file_name } ({ $class })
seen-input-label = What the model sees of { $file_name }
seen-input-size = { $size } × { $size } pixels
seen-crop = The photo is turned upright, its centre square (87.5% of the short side) is cut out and resized to 224 × 224. Tap any photo in a class to see it here.
seen-normalization = Each colour value x (0 to 255) then becomes { $formula }: { $zero }, { $middle }, { $full }. The pretrained network learned with exactly this; anything else shows it numbers it never saw.
seen-example = { $value } → { $becomes }
wrong-preprocessing = Train with the wrong preprocessing:
wrong-preprocessing-which = Which wrong preprocessing
wrong-raw = no normalization (0..255)
wrong-zero-to-one = inputs in 0..1 ({ $formula })
wrong-imagenet = ImageNet mean and std
wrong-needs-model = Train a model first: the experiment trains again the same way with wrong inputs and compares.
wrong-result = Validation accuracy: { $right } with the right preprocessing (model { $version }), { $wrong } with { $formula }.
wrong-running = Training again with the wrong preprocessing…
