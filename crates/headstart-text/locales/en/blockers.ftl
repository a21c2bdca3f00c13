# Why something cannot start now, and why a run ended without a model.

blocker-model-loading = The model is still loading.
blocker-training-running = Training is already running.
blocker-photos-being-added = Wait until all photos are added.
blocker-two-classes = Add photos to at least two classes.
blocker-class-needs-name = Every class needs a name.
blocker-duplicate-name = Two classes are both called "{ $name }"; rename one.
blocker-too-few-photos = "{ $name }" needs at least { $count ->
    [one] { $count } photo.
   *[other] { $count } photos.
}
blocker-experiment-needs-model = Train the model first: the experiment compares with it.
blocker-experiment-needs-head = The experiment retrains a new head: train one with "Frozen backbone + new head" first.
blocker-predict-first = First choose your prediction: which way will do best?
blocker-final-test-needs-model = Train a model or run the comparison first.
blocker-final-test-no-photos = No photos were kept for the test: set a test share and train again.
blocker-final-test-running = The final test is running.
blocker-stop-before-new-project = Stop the training run before starting a new project.
blocker-stop-before-opening-project = Stop the training run before opening a project.

run-failure-invalid-set = the photos did not make a valid training set
run-failure-compute = the computer's model engine failed
run-failure-view = a photo could not be prepared for training
