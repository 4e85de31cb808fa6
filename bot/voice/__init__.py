"""Voice calls: the IVR menus, the post-audit questionnaire, silence and safe exit."""
