// The fake replicas are part of every test's toolbox.
@_exported import FakeTigerBeetle
