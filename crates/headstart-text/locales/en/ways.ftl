# The six ways to train: what the page calls each, and its short name in rankings.

way-centroid = Nearest centroid
way-knn = Nearest neighbours (k = { $k })
way-frozen = Frozen backbone + new head
way-finetune = Fine-tuned last blocks + new head
way-lora = LoRA adapters on the last blocks + new head
way-scratch = From scratch (at { $size } × { $size } pixels)
way-short-centroid = centroid
way-short-knn = neighbours
way-short-frozen = new head
way-short-finetune = fine-tuned
way-short-lora = LoRA
way-short-scratch = from scratch
