# Step 1: classes and their photos.

classes-heading = 1. Classes and photos
add-class = + Add a class
load-samples = Try sample photos
photos-pending = Working on { $count ->
    [one] { $count } photo…
   *[other] { $count } photos…
}
class-name-label = Class name
photo-count = { $count ->
    [one] { $count } photo
   *[other] { $count } photos
}
delete-class-title = Delete this class and its photos
delete-class-label = Delete class { $name }
inspect-photo-title = See what the model sees
inspect-photo-label = See what the model sees of { $file_name }
remove-photo-title = Remove this photo
remove-photo-label = Remove { $file_name }
class-split = { $train } to train · { $validation } to validate · { $test } for the final test
class-split-folds = { $train } to train and validate by turns · { $test } for the final test
add-photos = Add photos (or drop them here)
capture-title = Tap for one photo from the camera; hold for a burst
capture = 📷 Capture (hold for more)
