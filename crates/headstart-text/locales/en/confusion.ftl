# What the model confuses, and its mistakes.

confusion-heading = What model { $version } confuses, on the { $photos } validation photos
confusion-no-validation = No photos were held back for validation: add more photos to each class to see what the model confuses.
confusion-caption = Rows: the true class. Columns: what the model said. Tap a number to see those photos.
confusion-right = right
mistakes-heading = Mistakes, most confident first
mistakes-hint = A confident mistake can be a photo in the wrong class: move it, or remove it, then train again.
mistake = In { $truth }, the model said { $predicted } ({ $confidence })
move-photo-label = Move this photo to another class
move-photo = Move to…
remove-photo = Remove
cell-photos = { $count ->
    [one] { $count } photo
   *[other] { $count } photos
} of { $truth } that the model called { $predicted }:
