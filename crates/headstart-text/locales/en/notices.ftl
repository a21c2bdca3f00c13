# What the page tells the student in the notices list.

notice-photo-skipped = "{ $file_name }" was skipped: { $reason }.
notice-photo-not-classified = "{ $file_name }" was not classified: { $reason }.
notice-model-still-loading = The model is still loading; add the photos again in a moment.
notice-train-first = Train the model before classifying photos.
notice-final-test-failed = The final test failed; try it again.
notice-samples-unavailable = The sample photos could not be loaded; check the connection and try again.
notice-model-imported = "{ $file_name }" is now model { $version }: classify photos with it.
notice-model-not-imported = "{ $file_name }" was not imported: { $reason }. The model in use is unchanged.
notice-restored = { $model ->
    [yes] Welcome back: your classes and { $photos ->
        [one] { $photos } photo
       *[other] { $photos } photos
    } and your model are here as you left them.
   *[no] Welcome back: your classes and { $photos ->
        [one] { $photos } photo
       *[other] { $photos } photos
    } are here as you left them.
}
notice-open-in-another-tab = Headstart is open in another tab, which saves your work. Changes made in this tab will not be saved: close it and use the other one.
notice-not-saving = This browser does not let the page save, so your work will be lost on reload. Save the project file to keep it.
notice-camera-unavailable = The camera could not start: allow the camera for this page (in the address bar), or add photos from files.
notice-project-opened = "{ $file_name }" is open: { $photos ->
    [one] { $photos } photo added.
   *[other] { $photos } photos added.
}
notice-project-not-opened = "{ $file_name }" was not opened: { $reason }. Nothing changed.
notice-gpu-stopped = The graphics processor stopped working, so Headstart goes on on the CPU (slower). Nothing was lost; a training run it was doing has to be started again.
notice-not-saved-full = Your latest change could not be saved: this device's storage is full. Delete some photos or free space; everything saved before is kept.
notice-not-saved = Your latest change could not be saved. Export the model to keep it; everything saved before is kept.
notice-not-saved-full-first = Your work could not be saved: this device's storage is full. Free some space, or save the project file to keep it.
notice-not-saved-first = Your work could not be saved in this browser. Save the project file to keep it.

# Why a photo was refused (inside the sentences above).
photo-reason-heic = this browser cannot read HEIC photos (an iPhone's format); save it as a JPEG first
photo-reason-not-an-image = this is not an image the browser can decode
photo-reason-too-large = it is { $width } × { $height } pixels, more than the { $millions } million a photo may have
photo-reason-compute = the model failed on this photo; try it again

# Why a model file was refused.
model-file-reason-too-large = it is far larger than any model file
model-file-reason-not-a-model-file = it is not a Headstart model file
model-file-reason-other-version = it was saved by another version of Headstart that this page cannot read
model-file-reason-other-backbone = it was trained on another pretrained network
model-file-reason-damaged = the file is damaged or was edited

# Why a project file was refused.
project-file-reason-not-a-project-file = it is not a Headstart project file
project-file-reason-other-version = it was saved by another version of Headstart that this page cannot read
project-file-reason-other-backbone = it was made for another pretrained network
project-file-reason-damaged = the file is damaged or was edited
