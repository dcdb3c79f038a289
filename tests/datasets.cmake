# Dataset plugin loaders (idx, cifar10, stl10, image_folder) and gan::DataLoader.
# Links the loaders' object library directly, so it needs no plugin loading; writes its files
# into a temporary folder. Also reads /usr/share/datasets/fashion-mnist when installed.
gan_add_test(test_datasets SOURCES test_datasets.cpp LIBS gan_datasets_impl ZLIB::ZLIB
  LABELS datasets)
