# The camera and live classification.

camera-start = 📷 Use the camera
camera-choose = Camera
camera-unnamed = Camera { $number }
camera-switch-title = Front or back camera
camera-switch = Switch camera
camera-stop = Stop the camera
camera-hint = Tap a class's Capture button for one photo; hold it to take several.
live-classify = Classify the camera live
live-prediction = { $label } ({ $confidence })
live-prediction-detail = {" "}· model { $version } · { $fps } frames/s
