# Saving the project as a file and opening one.

project-save-title = Save the classes and photos as one file to share (nothing is uploaded)
project-save = Save project file
project-with-model = with the model
project-with-embeddings = with embeddings (opens faster)
project-open = Open a project file
project-open-label = Open a project file
project-into-work = "{ $file_name }" holds { $photos ->
    [one] { $photos } photo
   *[other] { $photos } photos
} in { $classes ->
    [one] { $classes } class
   *[other] { $classes } classes
}. This project already has work in it.
project-replace = Replace this project
project-merge = Add to this project
project-cancel = Cancel
