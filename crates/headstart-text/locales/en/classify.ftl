# Step 3: classifying new photos.

classify-heading = 3. Classify new photos
classify-pick = Pick or drop photos to classify
classify-train-first = Train first, then pick or drop photos to classify
classify-clear = Clear
prediction = { $label } ({ $confidence })
prediction-detail = { $file_name } · model { $version }
