"""One module per chapter, for experiment drivers too long for a notebook. A module here is imported only by
its own chapter (and its tests); anything a second chapter needs moves down into tasks/models/theory/train.
"""
