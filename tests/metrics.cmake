# Metric types is, fid, kid on inputs with known answers (closed forms, plain-loop references).
# Links the plugin's sources directly (OBJECT library), so no plugin loading is involved.
gan_add_test(test_metrics SOURCES test_metrics.cpp LIBS gan_metrics_obj LABELS metrics)
